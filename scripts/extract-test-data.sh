#!/usr/bin/env bash
# Copies the real DICOM test files that Debian's python3-pydicom ships (test_files/*.dcm and
# charset_files/*.dcm) into test-data/pydicom/ and writes test-data/pydicom/MANIFEST.tsv.
# test-data/ is gitignored: never commit these files (pydicom's licence and provenance notes are
# copied next to them). Idempotent and safe to run concurrently (every write is tmp + rename).
#
# MANIFEST.tsv columns: file, size, sha256, TransferSyntaxUID (from the File Meta Information, by
# dcmdump; '-' when there is none), valid-part10: yes when the file has the 128-byte preamble, "DICM",
# the Type 1 meta elements TransferSyntaxUID, MediaStorageSOPClassUID and MediaStorageSOPInstanceUID
# (PS3.10 §7.1), and dcmdump reads the whole file without error; no otherwise; unknown without dcmtk.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/test-data/pydicom"
data="${PYDICOM_DATA_DIR:-}"
if [[ -z "$data" ]] && command -v dpkg >/dev/null && dpkg -s python3-pydicom >/dev/null 2>&1; then
  files="$(dpkg -L python3-pydicom)"
  data="$(grep -m1 '/pydicom/data/test_files$' <<<"$files" || true)"
  data="${data%/test_files}"
fi
if [[ -z "$data" || ! -d "$data/test_files" ]]; then
  echo "extract-test-data: the pydicom test files are not installed." >&2
  echo "  Install them with: apt-get install -y python3-pydicom" >&2
  echo "  (or set PYDICOM_DATA_DIR to a directory holding test_files/ and charset_files/)" >&2
  exit 1
fi

mkdir -p "$out"
tmp_suffix=".tmp.$$"
trap 'rm -f "$out"/*"$tmp_suffix"' EXIT

# Copies $1 to $2 unless identical already (atomic replace).
changed=no
copy() {
  if ! cmp -s "$1" "$2" 2>/dev/null; then
    cp "$1" "$2$tmp_suffix" && chmod 0644 "$2$tmp_suffix" && mv -f "$2$tmp_suffix" "$2"
    changed=yes
  fi
}

declare -A seen=()
for file in "$data"/test_files/*.dcm "$data"/charset_files/*.dcm; do
  name="$(basename "$file")"
  if [[ -n "${seen[$name]:-}" ]]; then
    echo "extract-test-data: $name exists in both test_files and charset_files" >&2
    exit 1
  fi
  seen[$name]=1
  copy "$file" "$out/$name"
done
copy "$data/test_files/README.txt" "$out/README.test_files.txt"
copy "$data/charset_files/FileInfo.txt" "$out/FileInfo.charset_files.txt"
if [[ -f /usr/share/doc/python3-pydicom/copyright ]]; then
  copy /usr/share/doc/python3-pydicom/copyright "$out/COPYRIGHT.pydicom"
fi

if [[ $changed == no && -s "$out/MANIFEST.tsv" && "$out/MANIFEST.tsv" -nt "${BASH_SOURCE[0]}" ]]; then
  echo "extract-test-data: ${#seen[@]} files in ${out#"$root"/}, up to date"
  exit 0
fi

have_dcmdump=no
command -v dcmdump >/dev/null && have_dcmdump=yes
[[ $have_dcmdump == no ]] && echo "extract-test-data: dcmdump (dcmtk) not found: TransferSyntaxUID '-', valid-part10 unknown" >&2

# TransferSyntaxUID, MediaStorageSOPClassUID and MediaStorageSOPInstanceUID, one per line ('' when
# absent), read even from a damaged file (+E); -Un: UIDs as numbers.
meta_values() {
  local dump tag
  dump="$(dcmdump -q +fo +E -Un +P 0002,0010 +P 0002,0002 +P 0002,0003 "$1" 2>/dev/null || true)"
  for tag in 0002,0010 0002,0002 0002,0003; do
    printf '%s\n' "$(sed -n "s/^($tag) UI \[\([^]]*\)\].*/\1/p;T;q" <<<"$dump")"
  done
}

manifest="$out/MANIFEST.tsv$tmp_suffix"
printf 'file\tsize\tsha256\tTransferSyntaxUID\tvalid-part10\n' >"$manifest"
for name in $(printf '%s\n' "${!seen[@]}" | LC_ALL=C sort); do
  path="$out/$name"
  size="$(stat -c %s "$path")"
  sha="$(sha256sum "$path" | cut -d' ' -f1)"
  magic="$(dd if="$path" bs=1 skip=128 count=4 2>/dev/null || true)"
  ts='-'
  valid=unknown
  if [[ $have_dcmdump == yes ]]; then
    valid=no
    if [[ "$magic" == DICM ]]; then
      mapfile -t meta < <(meta_values "$path")
      ts="${meta[0]:--}"
      if [[ "$ts" != '-' && -n "${meta[1]:-}" && -n "${meta[2]:-}" ]] && dcmdump -q +fo "$path" >/dev/null 2>&1; then
        valid=yes
      fi
    fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$size" "$sha" "$ts" "$valid" >>"$manifest"
done
mv -f "$manifest" "$out/MANIFEST.tsv"
echo "extract-test-data: ${#seen[@]} files in ${out#"$root"/}"
