#!/usr/bin/env bash
# Refreshes the CloudFormation resource provider schemas that `apprun check`
# validates against, from the cfn-lint pinned in requirements-test.txt (which
# ships AWS's published schemas). Vendored: the schemas of every resource
# type apprun emits plus extra types listed below, and the names of all
# resource types of the regions below (for "unknown type" findings).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
out=crates/apprun-check/schemas
extra="AWS::ECS::ExpressGatewayService AWS::Logs::LogGroup AWS::ECS::Cluster AWS::ECS::Service AWS::ECS::TaskDefinition AWS::SNS::Topic AWS::Lambda::Function AWS::EC2::SecurityGroupIngress AWS::EC2::SecurityGroupEgress AWS::IAM::Policy AWS::IAM::ManagedPolicy AWS::S3::BucketPolicy"
types="$(grep -rhoE '"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+"' crates/apprun-blueprint/src | tr -d '"' | sort -u) $extra"
.venv/bin/python - "$out" $types <<'PY'
import json, os, pathlib, shutil, sys
import cfnlint
out = pathlib.Path(sys.argv[1]); wanted = sorted(set(sys.argv[2:]))
data = pathlib.Path(cfnlint.__file__).parent / "data" / "schemas"
regions = ["us-east-1", "ap-northeast-1", "eu-west-1"]
index = {r: json.load(open(data / "providers" / f"{r}.json")) for r in regions}
for old in out.glob("*.json"):
    old.unlink()
names = sorted(set().union(*[set(i) for i in index.values()]))
(out / "resource-types.txt").write_text("\n".join(names) + "\n")
for t in wanted:
    h = next((index[r][t] for r in regions if t in index[r]), None)
    if h is None:
        print(f"warning: no schema for {t}", file=sys.stderr); continue
    schema = json.load(open(data / "resources" / f"{h}.json"))
    name = t.replace("::", "-").lower() + ".json"
    (out / name).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
version = json.load(open(data / "version.json")) if (data / "version.json").exists() else {}
(out / "SOURCE.md").write_text(
    "# Vendored CloudFormation resource schemas\n\n"
    f"Copied by `scripts/refresh-schemas.sh` from cfn-lint {__import__('importlib.metadata').metadata.version('cfn-lint')} "
    f"(regions {', '.join(regions)}; schema data {json.dumps(version)}).\n\n"
    "The schemas are AWS's published CloudFormation resource provider schemas as bundled by\n"
    "cfn-lint (https://github.com/aws-cloudformation/cfn-lint), licensed MIT-0; see LICENSE.\n"
)
print(f"{len(wanted)} schemas, {len(names)} type names")
PY
cp .venv/lib/python3.11/site-packages/cfn_lint-1.58.0.dist-info/licenses/LICENSE "$out/LICENSE"
