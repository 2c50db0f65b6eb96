# Shared by .ci/run and bench/run: start (or install) PostgreSQL and Redis, make a fresh database.
# Source it; it defines functions and the DB_USER / DB_PASSWORD / REDIS_URL the callers use.

DB_USER=hub_ci
DB_PASSWORD=hub-ci-only-password   # a throwaway local role for CI and benchmarks; never a deployment secret
REDIS_URL=redis://127.0.0.1:6379

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

as_postgres() { (cd / && runuser -u postgres -- "$@"); }   # from a directory postgres may enter

start_postgres() {
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  if ! pg_isready -q -h 127.0.0.1; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
  for _ in $(seq 60); do pg_isready -q -h 127.0.0.1 && return 0; sleep 1; done
  echo "PostgreSQL did not start" >&2
  return 1
}

start_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && return 0; sleep 1; done
  echo "Redis did not start" >&2
  return 1
}

fresh_database() {
  local name=$1
  as_postgres psql -q -v ON_ERROR_STOP=1 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
DROP DATABASE IF EXISTS $name WITH (FORCE);
DROP DATABASE IF EXISTS test_$name WITH (FORCE);
CREATE DATABASE $name OWNER $DB_USER;
SQL
  echo "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:5432/$name"
}

