#!/usr/bin/env bash
# Fetches the built OHIF Viewer that the OHIF test (test/viewer-api/ohif.int.test.ts) serves: the
# npm package @ohif/app at exactly OHIF_VERSION, whose dist/ is the production build (index.html,
# bundles, wasm codecs), into test-data/ohif/<version>/dist (gitignored).
#
# Why not a devDependency: @ohif/app declares its monorepo siblings as exact dependencies
# (@ohif/i18n, @ohif/ui… at the same version), several of which are not published on the npm
# registry at that version (npm install: ETARGET "No matching version found for
# @ohif/i18n@3.13.2"), and its other dependencies (webpack loaders, React, cornerstone) are only
# what the build used: the dist/ needs none of them. So the tarball alone is fetched with the npm
# client (npm pack), checked against the pinned sha512, and unpacked.
#
# Idempotent and safe to run concurrently (unpacked into a temporary directory, then renamed).
set -euo pipefail

OHIF_VERSION=3.13.2
OHIF_INTEGRITY='sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA=='

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/test-data/ohif/$OHIF_VERSION"
if [[ -f "$out/dist/index.html" ]]; then
  echo "fetch-ohif: @ohif/app $OHIF_VERSION in ${out#"$root"/}, up to date"
  exit 0
fi

mkdir -p "$root/test-data/ohif"
work="$(mktemp -d "$root/test-data/ohif/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "@ohif/app@$OHIF_VERSION" >/dev/null)
tarball="$work/ohif-app-$OHIF_VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ "$actual" != "$OHIF_INTEGRITY" ]]; then
  echo "fetch-ohif: @ohif/app $OHIF_VERSION tarball has $actual, expected $OHIF_INTEGRITY" >&2
  exit 1
fi
mkdir "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked" --strip-components=1 package/dist package/LICENSE
if [[ ! -f "$work/unpacked/dist/index.html" ]]; then
  echo "fetch-ohif: @ohif/app $OHIF_VERSION has no dist/index.html" >&2
  exit 1
fi
# Another run may have finished first: keep its copy.
mv -T "$work/unpacked" "$out" 2>/dev/null || true
echo "fetch-ohif: @ohif/app $OHIF_VERSION in ${out#"$root"/}"
