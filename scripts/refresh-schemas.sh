#!/usr/bin/env bash
# Refreshes the resource schemas that `apprun check` validates against:
#
# - from the cfn-lint pinned in requirements-test.txt (which ships AWS's
#   published CloudFormation resource provider schemas, MIT-0): the full
#   schemas of every resource type apprun emits plus the extra types listed
#   below, and resource-schemas.tsv, one line per resource type of the
#   regions below with its schema's top level (properties, required,
#   read-only, whether other properties are refused) for every other type;
# - from SAM's repository at the release pinned below (Apache-2.0):
#   sam/sam.schema.json, SAM's published JSON schema of the
#   AWS::Serverless::* resources and the Globals section, without its
#   documentation text.
#
# SAM_SCHEMA_FILE=<path> reads SAM's schema from a local copy of that
# release's schema_source/sam.schema.json instead of downloading it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
out=crates/apprun-check/schemas
sam_version=v1.110.0
extra="AWS::ECS::ExpressGatewayService AWS::Logs::LogGroup AWS::ECS::Cluster AWS::ECS::Service AWS::ECS::TaskDefinition AWS::SNS::Topic AWS::Lambda::Function AWS::EC2::SecurityGroupIngress AWS::EC2::SecurityGroupEgress AWS::IAM::Policy AWS::IAM::ManagedPolicy AWS::S3::BucketPolicy"
types="$(grep -rhoE '"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+"' crates/apprun-blueprint/src | tr -d '"' | sort -u) $extra"
.venv/bin/python - "$out" $types <<'PY'
import json, pathlib, sys
import cfnlint
out = pathlib.Path(sys.argv[1]); wanted = sorted(set(sys.argv[2:]))
data = pathlib.Path(cfnlint.__file__).parent / "data" / "schemas"
regions = ["us-east-1", "ap-northeast-1", "eu-west-1"]
index = {r: json.load(open(data / "providers" / f"{r}.json")) for r in regions}
for old in out.glob("*.json"):
    old.unlink()
(out / "resource-types.txt").unlink(missing_ok=True)
names = sorted(set().union(*[set(i) for i in index.values()]))

def schema_of(t):
    h = next((index[r][t] for r in regions if t in index[r]), None)
    return None if h is None else json.load(open(data / "resources" / f"{h}.json"))

# One line per type: the type, a tab, and its schema without documentation,
# handlers or nested definitions (top-level properties, required ones,
# read-only ones for GetAtt, whether others are refused): a few MB for every
# type, where whole schemas would take ten times that.
DROP = {"description", "handlers", "$comment", "documentationUrl", "sourceUrl", "tagging",
        "propertyTransform", "primaryIdentifier", "createOnlyProperties", "writeOnlyProperties",
        "deprecatedProperties", "conditionalCreateOnlyProperties", "nonPublicProperties",
        "nonPublicDefinitions", "replacementStrategy", "taggable", "insertionOrder", "arrayType",
        "relationshipRef", "examples", "title", "additionalIdentifiers", "definitions",
        "$schema", "lifecycle", "resourceLink", "typeConfiguration", "$id"}
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in DROP}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
# A top-level property defined by reference keeps the referenced shape's own
# keywords (type, enum, pattern, lengths, items...) but not its nested
# properties, so that its type and limits are still checked.
NESTED = {"properties", "required", "additionalProperties", "patternProperties", "oneOf", "anyOf",
          "allOf", "dependentRequired", "dependentExcluded", "requiredXor", "requiredOr"}
def shallow(prop, definitions):
    ref = prop.get("$ref", "")
    if not ref.startswith("#/definitions/"):
        return prop
    target = definitions.get(ref[len("#/definitions/"):])
    if not isinstance(target, dict):
        return prop
    merged = {k: v for k, v in strip(target).items() if k not in NESTED}
    merged.update({k: v for k, v in prop.items() if k != "$ref"})
    return merged
lines = []
for t in names:
    full = schema_of(t)
    s = strip(full)
    definitions = full.get("definitions", {})
    s["properties"] = {k: shallow(v, definitions) for k, v in s.get("properties", {}).items()}
    s["typeName"] = t
    lines.append(t + "\t" + json.dumps(s, separators=(",", ":"), sort_keys=True))
(out / "resource-index.tsv").unlink(missing_ok=True)
(out / "resource-schemas.tsv").write_text("\n".join(lines) + "\n")
for t in wanted:
    s = schema_of(t)
    if s is None:
        print(f"warning: no schema for {t}", file=sys.stderr); continue
    name = t.replace("::", "-").lower() + ".json"
    (out / name).write_text(json.dumps(s, indent=1, sort_keys=True) + "\n")
version = json.load(open(data / "version.json")) if (data / "version.json").exists() else {}
(out / "SOURCE.md").write_text(
    "# Vendored CloudFormation resource schemas\n\n"
    f"Copied by `scripts/refresh-schemas.sh` from cfn-lint {__import__('importlib.metadata').metadata.version('cfn-lint')} "
    f"(regions {', '.join(regions)}; schema data {json.dumps(version)}).\n\n"
    "The schemas are AWS's published CloudFormation resource provider schemas as bundled by\n"
    "cfn-lint (https://github.com/aws-cloudformation/cfn-lint), licensed MIT-0; see LICENSE.\n"
    "`resource-schemas.tsv` has one line per resource type of those regions: the type, a tab,\n"
    "and its schema without documentation, handlers and nested definitions (what the\n"
    "top-level properties are, which are required, read-only or refused).\n\n"
    "`sam/sam.schema.json` is SAM's published JSON schema (schema_source/sam.schema.json of\n"
    "https://github.com/aws/serverless-application-model, see sam/SOURCE.md), Apache-2.0;\n"
    "see sam/LICENSE and sam/NOTICE.\n"
)
print(f"{len(wanted)} schemas, {len(names)} indexed types")
PY
cp .venv/lib/python3.11/site-packages/cfn_lint-1.58.0.dist-info/licenses/LICENSE "$out/LICENSE"

mkdir -p "$out/sam"
raw="https://raw.githubusercontent.com/aws/serverless-application-model/$sam_version"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
if [ -n "${SAM_SCHEMA_FILE:-}" ]; then
  cp "$SAM_SCHEMA_FILE" "$tmp/sam.schema.json"
else
  curl -fsSL "$raw/schema_source/sam.schema.json" -o "$tmp/sam.schema.json"
  curl -fsSL "$raw/LICENSE" -o "$out/sam/LICENSE"
  curl -fsSL "$raw/NOTICE" -o "$out/sam/NOTICE"
fi
.venv/bin/python - "$tmp/sam.schema.json" "$out/sam" "$sam_version" <<'PY'
import json, pathlib, sys
src, out, version = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
# Documentation text is most of the file and no check reads it.
DOC = {"markdownDescription", "markdownDescriptionOverride", "description", "title", "examples", "__samPassThrough"}
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in DOC}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
schema = strip(json.load(open(src)))
(out / "sam.schema.json").write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
(out / "SOURCE.md").write_text(
    "# SAM's JSON schema\n\n"
    f"`sam.schema.json` is `schema_source/sam.schema.json` of AWS SAM {version}\n"
    "(https://github.com/aws/serverless-application-model), with its documentation keys\n"
    f"({', '.join(sorted(DOC))}) removed by `scripts/refresh-schemas.sh`.\n"
    "Licensed under the Apache License 2.0 (LICENSE); NOTICE is SAM's notice file.\n"
)
print(f"SAM schema {version}: {len(schema['definitions'])} definitions")
PY
