"""Checks deploy/compose.yaml offline: valid against the Compose file format's
JSON schema (read from the pinned docker-compose wheel that ./setup.sh keeps
with the test packages), every service that others depend on exists, every
named volume is declared, and every Signpost replica shares one PostgreSQL
and one Redis. Run with the schemathesis virtual environment's Python (it
has PyYAML and jsonschema_rs). Usage: check-compose.py WHEEL COMPOSE_FILE"""
import json
import sys
import zipfile

import jsonschema_rs
import yaml

wheel, path = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    schema = json.loads(z.read("compose/config/compose_spec.json"))
with open(path) as f:
    doc = yaml.safe_load(f)

problems = [f"schema: {e.message} (at {'/'.join(map(str, e.instance_path)) or 'top'})"
            for e in jsonschema_rs.validator_for(schema).iter_errors(doc)]
services = doc.get("services", {})
volumes = set((doc.get("volumes") or {}).keys())
for name, s in services.items():
    deps = s.get("depends_on", [])
    for d in (deps.keys() if isinstance(deps, dict) else deps):
        if d not in services:
            problems.append(f"{name} depends on {d}, which is not a service")
    for v in s.get("volumes", []):
        source = v.split(":", 1)[0] if isinstance(v, str) else v.get("source", "")
        if source and not source.startswith((".", "/")) and source not in volumes:
            problems.append(f"{name} uses the volume {source}, which is not declared")
replicas = [s for s in services.values() if "SIGNPOST_POSTGRES_URL" in (s.get("environment") or {})]
if len(replicas) < 2:
    problems.append("fewer than two Signpost replicas share PostgreSQL")
for key in ("SIGNPOST_POSTGRES_URL", "SIGNPOST_REDIS_URL", "SIGNPOST_LLM_SERVER_URL"):
    if len({r["environment"].get(key) for r in replicas}) != 1:
        problems.append(f"the replicas do not share one {key}")
if problems:
    for p in problems:
        print(f"[deploy] {path}: {p}", file=sys.stderr)
    sys.exit(1)
print(f"[deploy] {path}: valid ({len(services)} services; schema of docker-compose 1.29.2)")
