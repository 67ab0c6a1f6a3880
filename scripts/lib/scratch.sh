# Shared by scripts/load, scripts/ceiling and scripts/schemathesis (source it).
# scratch_db NAME BIN: recreates database NAME on the server scripts/pg-bootstrap
# found, migrates it with BIN/canasta, and prints its URL.
# wait_ready PORT: waits up to 20 s for a canasta on PORT to answer /readyz.

scratch_db() {
  local name=$1 bin=$2 base
  base=$(scripts/pg-bootstrap)
  psql -q "${base%/*}/postgres" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >&2
  DATABASE_URL="${base%/*}/$name" "$bin/canasta" migrate >/dev/null
  echo "${base%/*}/$name"
}

wait_ready() {
  for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "canasta on port $1 did not become ready" >&2
  return 1
}
