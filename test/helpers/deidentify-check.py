"""Checks de-identified copies against PS3.15 Table E.1-1 (Basic Profile), with pydicom.

Usage: deidentify-check.py TABLE.json ORIGINAL OUTPUT [ORIGINAL OUTPUT ...]
TABLE.json maps "GGGGEEEE" to the Basic Profile action code of the standard's table. Every element of
every original, at every depth, is checked against its action as the standard defines the codes:
  X absent | Z present and empty | D present and not empty | U a new UID, the same for the same
  original in every file | K/unlisted unchanged (sequences: each item checked the same way) | the
  combinations allow what their parts allow. Private tags, curves and overlay data/comments: absent.
Prints a JSON object {violations: [...], checked: {action: count}}.
"""
import json
import sys
import warnings

import pydicom

warnings.simplefilter("ignore")

ADDED = {0x00120062, 0x00120063, 0x00120064, 0x00280303}
table = {int(k, 16): v for k, v in json.load(open(sys.argv[1])).items()}
violations = []
checked = {}
uid_map = {}


def action(tag):
    group, element = tag >> 16, tag & 0xFFFF
    if group & 1:
        return "X"
    if group & 0xFF00 == 0x5000 or (group & 0xFF00 == 0x6000 and element in (0x3000, 0x4000)):
        return "X"
    if element == 0 and group != 0x0002:
        return "X"  # group lengths
    return table.get(tag, "K")


def empty(el):
    v = el.value
    return v is None or v == "" or v == b"" or (hasattr(v, "__len__") and len(v) == 0)


def values(el):
    v = el.value
    return [str(x) for x in v] if isinstance(v, pydicom.multival.MultiValue) else [str(v)]


def check_uid(el_in, el_out, where):
    for a, b in zip(values(el_in), values(el_out)):
        if not b.startswith("2.25.") or b == a:
            violations.append(f"{where}: UID not replaced")
        elif uid_map.setdefault(a, b) != b:
            violations.append(f"{where}: UID replaced inconsistently")


def walk(ds_in, ds_out, where, top):
    for el in ds_in:
        tag = int(el.tag)
        if top and tag in ADDED:
            continue
        code = action(tag)
        here = f"{where}({tag >> 16:04X},{tag & 0xFFFF:04X})"
        checked[code] = checked.get(code, 0) + 1
        present = el.tag in ds_out
        out = ds_out[el.tag] if present else None
        options = code.split("/")
        ok = False
        if "X" in options and not present:
            ok = True
        if present and "Z" in options and empty(out):
            ok = True
        if present and ("D" in options or "C" in options) and not empty(out):
            ok = True
        if present and ("U" in options or "U*" in options):
            if el.VR == "SQ":
                ok = same_sequence(el, out, here)
            elif el.VR == "UI":
                check_uid(el, out, here)
                ok = True
        if present and code == "K":
            if el.VR == "SQ":
                ok = same_sequence(el, out, here)
            elif el.VR == "UN" or out.VR == "UN":
                ok = True  # re-typed by the reader; presence is what can be compared
            else:
                ok = el.value == out.value
        if not ok:
            violations.append(f"{here} [{code}] not handled (present={present})")


def same_sequence(el_in, el_out, where):
    if el_out.VR != "SQ" or len(el_in.value) != len(el_out.value):
        violations.append(f"{where}: sequence items differ")
        return False
    for i, (a, b) in enumerate(zip(el_in.value, el_out.value)):
        walk(a, b, f"{where}[{i}]", False)
    return True


pairs = sys.argv[2:]
for original, output in zip(pairs[0::2], pairs[1::2]):
    ds_in = pydicom.dcmread(original, force=True)
    ds_out = pydicom.dcmread(output)
    walk(ds_in, ds_out, original.rsplit("/", 1)[-1] + ":", True)
    if ds_out.get("PatientIdentityRemoved") != "YES":
        violations.append(f"{output}: PatientIdentityRemoved is not YES")
    consistent_in = ds_in.get("SOPInstanceUID") == ds_in.file_meta.get("MediaStorageSOPInstanceUID")
    if consistent_in and ds_out.file_meta.MediaStorageSOPInstanceUID != ds_out.SOPInstanceUID:
        violations.append(f"{output}: meta and data set SOPInstanceUID differ")
    if "PixelData" in ds_in and ds_in.PixelData != ds_out.PixelData:
        violations.append(f"{output}: pixel data changed")
print(json.dumps({"violations": violations, "checked": checked}))
