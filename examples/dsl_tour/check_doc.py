# check_doc.py: fails unless every "// [tour:NAME]" block of dsl_tour.cpp is in docs/DSL.md.
import re
import sys

src, doc = (open(p, encoding="utf-8").read() for p in sys.argv[1:3])
blocks = re.findall(r"// \[tour:([a-z]+)\]\n(.*?)// \[end\]\n", src, re.S)
if not blocks:
    sys.exit("check_doc: no [tour:...] blocks in " + sys.argv[1])
missing = [name for name, body in blocks if body not in doc]
for name in missing:
    print(f"check_doc: block '{name}' of {sys.argv[1]} differs from {sys.argv[2]}")
print(f"check_doc: {len(blocks) - len(missing)}/{len(blocks)} blocks match")
sys.exit(1 if missing else 0)
