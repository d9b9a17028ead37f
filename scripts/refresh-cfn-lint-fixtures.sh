#!/usr/bin/env bash
# Refreshes what `apprun check` borrows from cfn-lint (MIT-0) at the release
# pinned in requirements-test.txt:
#  - its test fixture templates test/fixtures/templates/{good,bad} (template
#    files only), run side by side with cfn-lint by
#    crates/apprun-cli/tests/peer_suite.rs;
#  - its Lambda runtime lifecycle data (deprecation and block dates), read by
#    the E-VALUE-LAMBDA-RUNTIME rule, and the DB instance classes of each RDS
#    engine, read by E-VALUE-RDS-CLASS; and where the resource schemas of
#    every type declare uniqueItems, read by E-VALUE-LIST-DUPLICATE.
# The fixtures come from cfn-lint's source distribution on PyPI (it ships
# test/), so only the Python package index is needed, no github.com.
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(sed -n 's/^cfn-lint==//p' requirements-test.txt)"
[ -n "$version" ] || { echo "cfn-lint is not pinned in requirements-test.txt" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
.venv/bin/pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    "cfn-lint==$version" -d "$work"
tar -xzf "$work/cfn_lint-$version.tar.gz" -C "$work"
src="$work/cfn_lint-$version"

out=crates/apprun-check/tests/cfn-lint-fixtures
rm -rf "$out/good" "$out/bad"
for kind in good bad; do
    (cd "$src/test/fixtures/templates" && find "$kind" -type f \
        \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' -o -name '*.template' \) -print0) |
        while IFS= read -r -d '' f; do
            mkdir -p "$out/$(dirname "$f")"
            cp "$src/test/fixtures/templates/$f" "$out/$f"
        done
done
cp "$src/LICENSE" "$out/LICENSE"
cat >"$out/SOURCE.md" <<MD
# cfn-lint's fixture templates

\`good/\` and \`bad/\` are cfn-lint's \`test/fixtures/templates/good\` and \`bad\` (template
files only), copied by \`scripts/refresh-cfn-lint-fixtures.sh\` from the source distribution
of cfn-lint $version on PyPI (https://github.com/aws-cloudformation/cfn-lint), licensed
MIT-0; see LICENSE. \`crates/apprun-cli/tests/peer_suite.rs\` runs cfn-lint $version and
\`apprun check\` on each of them.
MD

data=crates/apprun-check/src/values/data
mkdir -p "$data"
cp "$src/src/cfnlint/data/AdditionalSpecs/LmbdRuntimeLifecycle.json" "$data/lambda-runtimes.json"
# RDS instance classes per engine, the union over regions and licence
# models of cfn-lint's per-region data (8 MB): a class outside it is
# unavailable for that engine everywhere.
.venv/bin/python - "$src/src/cfnlint/data/schemas/extensions/aws_rds_dbinstance/dbinstanceclass_enum.json" \
    "$data/rds-instance-classes.json" <<'PY'
import collections, json, sys
by_region = json.load(open(sys.argv[1]))
classes = collections.defaultdict(set)
for schema in by_region.values():
    for case in schema.get("allOf", []):
        engine = case.get("if", {}).get("properties", {}).get("Engine", {}).get("const")
        allowed = case.get("then", {}).get("properties", {}).get("DBInstanceClass", {}).get("enum")
        if engine and allowed:
            classes[engine].update(allowed)
json.dump({e: sorted(c) for e, c in sorted(classes.items())}, open(sys.argv[2], "w"), indent=1)
PY
# Where the resource schemas (all types, as bundled by the pinned cfn-lint)
# declare uniqueItems: "Type<TAB>Property/Path" with * for list items.
.venv/bin/python - "$data/unique-items.tsv" <<'PY'
import json, pathlib, sys, cfnlint
data = pathlib.Path(cfnlint.__file__).parent / "data" / "schemas"
regions = ["us-east-1", "ap-northeast-1", "eu-west-1"]
index = {}
for r in regions:
    for t, h in json.load(open(data / "providers" / f"{r}.json")).items():
        index.setdefault(t, h)
rows = set()
def walk(root, node, path, seen):
    if not isinstance(node, dict) or len(path) > 12:
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        name = ref.split("/")[-1]
        if name in seen:
            return
        seen = seen | {name}
        node = root.get("definitions", {}).get(name, {})
        if not isinstance(node, dict):
            return
    if node.get("uniqueItems") is True and path:
        rows.add("/".join(path))
    items = node.get("items")
    if isinstance(items, dict):
        walk(root, items, path + ["*"], seen)
    for k, v in (node.get("properties") or {}).items():
        walk(root, v, path + [k], seen)
out = []
for t, h in sorted(index.items()):
    f = data / "resources" / f"{h}.json"
    if not f.exists():
        continue
    s = json.load(open(f))
    rows = set()
    for k, v in (s.get("properties") or {}).items():
        walk(s, v, [k], frozenset())
    for p in sorted(rows):
        out.append(f"{t}\t{p}")
open(sys.argv[1], "w").write("\n".join(out) + "\n")
print(len(out))
PY
cp "$src/LICENSE" "$data/LICENSE"
cat >"$data/SOURCE.md" <<MD
# Lambda runtime, RDS instance class and unique-items data

\`lambda-runtimes.json\` is cfn-lint's \`src/cfnlint/data/AdditionalSpecs/LmbdRuntimeLifecycle.json\`
(deprecation, create-block and update-block dates of each Lambda runtime, from AWS's
"Lambda runtimes" page), and \`rds-instance-classes.json\`, the DB instance classes each RDS
engine offers in any region (derived from cfn-lint's
\`data/schemas/extensions/aws_rds_dbinstance/dbinstanceclass_enum.json\`), and
\`unique-items.tsv\`, the property paths whose lists the CloudFormation resource schemas (as
bundled by cfn-lint, regions us-east-1, ap-northeast-1, eu-west-1) declare \`uniqueItems\`, copied by \`scripts/refresh-cfn-lint-fixtures.sh\` from cfn-lint
$version (https://github.com/aws-cloudformation/cfn-lint), licensed MIT-0; see LICENSE.
MD
echo "cfn-lint $version: $(find "$out/good" -type f | wc -l) good and $(find "$out/bad" -type f | wc -l) bad fixtures; Lambda runtime, RDS instance class and unique-items data"
