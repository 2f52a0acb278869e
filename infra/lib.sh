# shellcheck shell=bash
# Shared helpers for the infra/*.sh scripts. Sourced by them, never run on its own.
#
# State lives in ${WAL_HOME:-<repo root>/.wal}:
#   cache/            downloads kept between runs (Kafka jars)
#   data/<server>/    server data and generated config
#   logs/<server>.log everything a server prints
#   run/<server>.pid  pid of the running server

# The repo root comes from this file's location, so the scripts work from any working directory.
WAL_INFRA_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
WAL_ROOT=$(cd -- "$WAL_INFRA_DIR/.." && pwd -P)
WAL_HOME=${WAL_HOME:-$WAL_ROOT/.wal}
mkdir -p -- "$WAL_HOME"
# Absolute, because servers run from other working directories; exported so that
# the per-server scripts run by up.sh/down.sh resolve the same folder.
WAL_HOME=$(cd -- "$WAL_HOME" && pwd -P)
export WAL_HOME
mkdir -p -- "$WAL_HOME/cache" "$WAL_HOME/data" "$WAL_HOME/logs" "$WAL_HOME/run"

# Every server binds loopback only.
WAL_HOST=127.0.0.1

say() { printf '%s\n' "$*"; }

ALL_SERVERS=(kafka nats memcached postgres)

# Sets the global array `servers` to the names given, or all servers when none; dies on an unknown name.
select_servers() {
  servers=("$@")
  ((${#servers[@]})) || servers=("${ALL_SERVERS[@]}")
  local s
  for s in "${servers[@]}"; do
    [[ " ${ALL_SERVERS[*]} " == *" $s "* ]] || die "unknown server '$s' (known: ${ALL_SERVERS[*]})"
  done
}
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

data_dir() { printf '%s/data/%s' "$WAL_HOME" "$1"; }
log_file() { printf '%s/logs/%s.log' "$WAL_HOME" "$1"; }
pid_file() { printf '%s/run/%s.pid' "$WAL_HOME" "$1"; }

# Fails the start of server $1 with reason $2 and shows the end of its log,
# which is usually all CI output needs to explain the failure.
fail_start() {
  local log
  log=$(log_file "$1")
  {
    printf 'error: %s %s; see %s\n' "$1" "$2" "$log"
    if [[ -f $log ]]; then
      tail -n 25 -- "$log" | sed 's/^/  | /'
    fi
  } >&2
  exit 1
}

# True when a process with pid $1 exists and is not a zombie (kill -0 alone accepts zombies).
pid_alive() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) } # the command name in parentheses may contain spaces
  [[ ${stat%% *} != Z ]]
}

# Prints the pid recorded for server $1 when that process is alive and its command line
# contains $2 (so a recycled pid is not mistaken for the server); removes a stale pid file.
running_pid() {
  local name=$1 marker=$2 file pid
  file=$(pid_file "$name")
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  if pid_alive "$pid" && grep -qaF -- "$marker" "/proc/$pid/cmdline" 2>/dev/null; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f -- "$file"
  return 1
}

# True when something accepts TCP connections on $1:$2 (bash's /dev/tcp, no extra tools).
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Refuses to start server $3 when another process already holds $1:$2: the new server would
# fail to bind, and clients would silently talk to the wrong process. $4 names the port's variable.
require_free_port() {
  local host=$1 port=$2 name=$3 var=$4 holder=''
  port_open "$host" "$port" || return 0
  if command -v ss >/dev/null 2>&1; then
    holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:.*' | head -n 1 || true)
  fi
  die "$name: $host:$port is already in use by another process${holder:+ ($holder)}; stop it or set $var to another port"
}

# Waits until $1:$2 accepts connections, for at most $3 seconds. Fails early, with the log,
# when the server $4 (if it has a pid file) has exited in the meantime.
wait_for_port() {
  local host=$1 port=$2 timeout=$3 name=$4 deadline pidf pid
  deadline=$((SECONDS + timeout))
  pidf=$(pid_file "$name")
  until port_open "$host" "$port"; do
    if [[ -f $pidf ]]; then
      pid=$(<"$pidf")
      pid_alive "$pid" || fail_start "$name" "exited before opening $host:$port"
    fi
    ((SECONDS < deadline)) || fail_start "$name" "did not open $host:$port within ${timeout}s"
    sleep 0.1
  done
}

# Closes every descriptor above 2 in the current shell. Call it in a subshell that is about to
# start a long-lived server: an inherited pipe held open by the server would keep whoever reads
# that pipe (a CI runner collecting output, say) waiting forever.
close_inherited_fds() {
  local path fd
  for path in /proc/self/fd/*; do
    fd=${path##*/}
    if ((fd > 2)); then
      exec {fd}>&-
    fi
  done 2>/dev/null
}

# Runs "$@" in the background as server $1's process, output appended to its log, and records
# its pid. setsid gives it its own session so a Ctrl-C or hang-up of the caller does not reach it.
# (The background subshell is no process-group leader, so setsid does not fork, and both execs
# keep the pid: $! is the server's own pid.)
start_bg() {
  local name=$1 log
  shift
  log=$(log_file "$name")
  printf '\n==== %s: starting %s\n' "$(date '+%F %T')" "$name" >>"$log"
  (
    close_inherited_fds
    exec setsid "$@" >>"$log" 2>&1 </dev/null
  ) &
  printf '%s\n' "$!" >"$(pid_file "$name")"
}

# Stops server $1 (pid file, command line marker $2): TERM, wait up to $3 seconds, then KILL.
stop_bg() {
  local name=$1 marker=$2 timeout=${3:-30} pid deadline
  if ! pid=$(running_pid "$name" "$marker"); then
    say "$name: not running"
    return 0
  fi
  say "$name: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout))
  while pid_alive "$pid"; do
    if ((SECONDS >= deadline)); then
      warn "$name: still running ${timeout}s after TERM, sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
      while pid_alive "$pid"; do
        ((SECONDS < deadline)) || die "$name: pid $pid survived KILL"
        sleep 0.1
      done
      break
    fi
    sleep 0.1
  done
  rm -f -- "$(pid_file "$name")"
  say "$name: stopped"
}

# One status line for server $1 (marker $2, port $3). Returns 0 when running, 3 when stopped.
print_status() {
  local name=$1 marker=$2 port=$3 pid
  if pid=$(running_pid "$name" "$marker"); then
    if port_open "$WAL_HOST" "$port"; then
      printf '%-10s running  pid %-8s %s:%s\n' "$name" "$pid" "$WAL_HOST" "$port"
    else
      printf '%-10s running  pid %-8s %s:%s (port not open yet)\n' "$name" "$pid" "$WAL_HOST" "$port"
    fi
    return 0
  fi
  printf '%-10s stopped  %-12s %s:%s\n' "$name" '-' "$WAL_HOST" "$port"
  return 3
}

# Installs Debian package $2 when $1 (a command name or an absolute path) is missing.
# CI starts from machines where nothing is installed, so the scripts install what they use.
ensure_pkg() {
  local bin=$1 pkg=$2 log
  if [[ $bin == */* ]]; then
    [[ -x $bin ]] && return 0
  else
    command -v "$bin" >/dev/null 2>&1 && return 0
  fi
  [[ $(id -u) -eq 0 ]] ||
    die "$bin is missing; install the Debian package '$pkg' as root (sudo apt-get install -y $pkg) and run again"
  command -v apt-get >/dev/null 2>&1 || die "$bin is missing and apt-get is not available; install '$pkg' by hand"
  log=$WAL_HOME/logs/apt.log
  say "installing $pkg with apt-get (for $bin; output in $log)"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have no package lists yet; stale lists make the install fail: update then.
  if ! apt-cache show "$pkg" >/dev/null 2>&1; then
    apt-get update -q >>"$log" 2>&1 || die "apt-get update failed; see $log"
  fi
  if ! apt_install "$pkg" >>"$log" 2>&1; then
    apt-get update -q >>"$log" 2>&1 || die "apt-get update failed; see $log"
    apt_install "$pkg" >>"$log" 2>&1 || die "apt-get install $pkg failed; see $log"
  fi
  if [[ $bin == */* ]]; then
    [[ -x $bin ]] || die "installed $pkg but $bin is still missing"
  else
    command -v "$bin" >/dev/null 2>&1 || die "installed $pkg but $bin is still missing"
  fi
}

apt_install() {
  # The lock timeout makes a concurrent apt run wait instead of failing.
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "$@"
}

# Creates system user $1 unless it exists (servers that refuse to run as root).
ensure_user() {
  id -u "$1" >/dev/null 2>&1 && return 0
  [[ $(id -u) -eq 0 ]] || die "system user '$1' is missing and only root can create it"
  useradd --system --user-group --home-dir "${2:-/nonexistent}" --no-create-home --shell /usr/sbin/nologin "$1"
}

# Dispatches the subcommands to the calling script's functions of the same name:
#   packages  install missing system packages (apt-get)
#   install   packages plus anything else fetched once (Kafka's jars)
#   start, stop, restart, status
run_command() {
  local script=$1
  shift
  case ${1:-} in
  packages | install | start | stop | status) "$1" ;;
  restart)
    stop
    start
    ;;
  *) die "usage: $script packages|install|start|stop|restart|status" ;;
  esac
}
