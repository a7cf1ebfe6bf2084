#!/usr/bin/env bash
# Pulse: set up, build and run from a checkout. Needs only Node.js + npm (for Bun).
#   ./install.sh              build, then run `dist/pulse serve` in the foreground
#   ./install.sh --test [...] build, check test peers, type-check, `bun test [...]`
#   ./install.sh --service    build, install as a systemd service (root)
# Safe to run again: every step checks before it changes anything.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./install.sh [--test [bun test args...] | --service | --help]

  (no flag)   install Bun if needed, build dist/pulse, run `pulse serve`
  --test      same set-up, then type-check and run `bun test` (extra args are
              passed to bun test); needs real Postgres at PULSE_TEST_DATABASE_URL
              (default postgres://postgres@127.0.0.1:5432/postgres)
  --service   same set-up, then install /usr/local/bin/pulse and the systemd
              unit `pulse` (root + systemd only)
  --help, -h  this text

Pulse reads PULSE_* variables (PULSE_HTTP_PORT, PULSE_DATA_DIR, ...) itself;
they pass through untouched.
EOF
}

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "==> $*"; }

mode="serve"
case "${1:-}" in
  "") ;;
  --test) mode="test"; shift ;;
  --service) mode="service"; shift; [[ $# -eq 0 ]] || { usage >&2; exit 2; } ;;
  -h | --help) usage; exit 0 ;;
  *) echo "install.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
esac

# Check what --service needs before spending minutes on a build.
if [[ $mode == service ]]; then
  [[ $EUID -eq 0 ]] || { echo "install.sh: --service must run as root (try: sudo ./install.sh --service)" >&2; exit 2; }
  command -v systemctl >/dev/null 2>&1 || { echo "install.sh: --service needs systemd (systemctl not found); run ./install.sh or use the Dockerfile" >&2; exit 2; }
fi

# Work from the checkout so ./data, bun.lock and dist/ are always the same ones.
repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
cd "$repo"

# --- Bun ----------------------------------------------------------------------
tools="${HOME:-/tmp}/.pulse-tools"   # per-user fallback when global npm is not writable
export PATH="${HOME:-/tmp}/.bun/bin:$tools/node_modules/.bin:$PATH"

bun_works() { hash -r; command -v bun >/dev/null 2>&1 && bun --version >/dev/null 2>&1; }

# npm 11 blocks install scripts by default; bun's postinstall is what swaps the
# placeholder bin/bun.exe for the real binary, so run it ourselves if it was skipped.
run_bun_postinstall() {
  if [[ -f "$1/install.js" ]]; then (cd "$1" && node install.js) || true; fi
}

install_bun() {
  command -v npm >/dev/null 2>&1 || die "Bun is missing and npm is not installed; install Node.js 20+ first"
  say "Bun not found; installing it with npm"
  if npm install -g bun; then
    PATH="$(npm prefix -g)/bin:$PATH"
    bun_works || npm install -g --allow-scripts=bun bun || true
    bun_works || run_bun_postinstall "$(npm root -g)/bun"
  fi
  if ! bun_works; then
    # Typically EACCES on /usr as a normal user: keep Bun under $HOME instead.
    say "global npm install unavailable; installing Bun into $tools"
    npm install --prefix "$tools" bun || die "npm could not install bun"
    bun_works || run_bun_postinstall "$tools/node_modules/bun"
  fi
  bun_works || die "Bun was installed but 'bun --version' still fails"
}

# An earlier run may have put Bun in npm's global bin, which need not be on PATH.
if ! bun_works && command -v npm >/dev/null 2>&1; then PATH="$(npm prefix -g)/bin:$PATH"; fi
bun_works || install_bun
say "Bun $(bun --version)"

# --- dependencies and build ---------------------------------------------------
# A lockfile means reproducible installs; drifting from it is an error, not an update.
if [[ -f bun.lock || -f bun.lockb ]]; then
  bun install --frozen-lockfile
else
  bun install
fi
bun run build
[[ -x dist/pulse ]] || die "build finished but dist/pulse is missing"

# --- modes ----------------------------------------------------------------------
run_serve() {
  cat <<EOF

  Pulse is starting at http://localhost:${PULSE_HTTP_PORT:-8080}
  The admin password is printed by Pulse on first start (watch the log below).
  Stop with Ctrl-C.

EOF
  exec ./dist/pulse serve
}

run_tests() {
  # Browser, MQTT, SNMP and SMTP tests talk to real Debian tools, not mocks.
  local pkgs=(chromium mosquitto-clients snmptrapd snmp python3-aiosmtpd) missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      say "installing test peers: ${missing[*]}"
      apt-get update
      DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}"
    else
      echo "WARNING: test peers missing: ${missing[*]}" >&2
      echo "WARNING: install them as root (apt-get install ${missing[*]}); browser and peer tests will fail" >&2
    fi
  fi

  # CI must exercise real Postgres, so an unreachable server is an error, not a skip.
  export PULSE_TEST_DATABASE_URL="${PULSE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  say "checking Postgres at $(sed -E 's#(//[^:/@]+):[^@/]*@#\1:****@#' <<<"$PULSE_TEST_DATABASE_URL")"
  # shellcheck disable=SC2016  # JavaScript, not shell: the backticks are postgres.js
  bun -e '
    import postgres from "postgres";
    const timer = setTimeout(() => { console.error("no answer within 5 s"); process.exit(1); }, 5000);
    const sql = postgres(process.env.PULSE_TEST_DATABASE_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
    try { await sql`select 1`; } catch (err) { console.error(err.message); process.exit(1); }
    clearTimeout(timer);
    await sql.end({ timeout: 1 });
  ' || die "Postgres at PULSE_TEST_DATABASE_URL does not answer 'select 1'; start it or point PULSE_TEST_DATABASE_URL at one"

  say "type-check"
  ./node_modules/.bin/tsc --noEmit -p .
  say "bun test $*"
  exec bun test "$@"
}

run_service() {
  local etc=/etc/pulse state=/var/lib/pulse was_active=no
  local -a group
  systemctl is-active --quiet pulse && was_active=yes

  install -m 0755 dist/pulse /usr/local/bin/pulse   # install replaces the file, so a running binary is fine

  if ! id -u pulse >/dev/null 2>&1; then
    # Reuse a leftover group of that name instead of failing on it.
    if getent group pulse >/dev/null; then group=(-g pulse); else group=(--user-group); fi
    useradd --system "${group[@]}" --home-dir "$state" --no-create-home --shell /usr/sbin/nologin pulse
  elif [[ "$(getent passwd pulse | cut -d: -f6)" != "$state" ]]; then
    # PulseAudio's system user is also called pulse (home /run/pulse).
    echo "WARNING: user 'pulse' already exists with another home (PulseAudio?); using it anyway" >&2
  fi
  install -d -o pulse -g pulse -m 0750 "$state"
  # /etc/pulse may already hold PulseAudio's client.conf (libpulse0, pulled in by
  # Chromium): create it if needed but never change its owner or mode.
  [[ -d $etc ]] || install -d -m 0755 "$etc"

  # Never overwrite an admin's config. The example has every key commented out,
  # so add one live top-level data_dir line before the first [section].
  if [[ ! -e $etc/config.toml ]]; then
    local tmp
    tmp="$(mktemp "$etc/config.toml.XXXXXX")"
    if [[ -f config.example.toml ]]; then
      awk 'BEGIN { done = 0 }
           !done && /^\[/ { print "data_dir = \"/var/lib/pulse\"\n"; done = 1 }
           { print }
           END { if (!done) print "data_dir = \"/var/lib/pulse\"" }' config.example.toml >"$tmp"
    else
      echo "WARNING: config.example.toml not found; writing a minimal config" >&2
      printf '# Pulse configuration; see config.example.toml in the source for every key.\ndata_dir = "/var/lib/pulse"\n' >"$tmp"
    fi
    chown root:pulse "$tmp" && chmod 0640 "$tmp" && mv "$tmp" "$etc/config.toml"
    say "wrote $etc/config.toml"
  fi

  install -m 0644 packaging/pulse.service /etc/systemd/system/pulse.service
  systemctl daemon-reload
  systemctl enable --now pulse
  # enable --now leaves a running old binary alone; restart so an upgrade takes effect.
  [[ $was_active == yes ]] && systemctl restart pulse

  cat <<EOF

  Pulse runs as the systemd service 'pulse' (config $etc/config.toml, data $state).
  URL: http://localhost:8080 unless config.toml sets another http port.
  Admin password (printed once, on first start):
      journalctl -u pulse | grep -A3 'admin'
  Status: systemctl status pulse    Logs: journalctl -u pulse -f
EOF
}

case $mode in
  serve) run_serve ;;
  test) run_tests "$@" ;;
  service) run_service ;;
esac
