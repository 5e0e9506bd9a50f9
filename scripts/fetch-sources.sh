#!/bin/sh
# Fetch Debian source packages into build/sources/PKG/ (unpacked, Debian's
# patches applied), for the real-world false-alarm runs (tests/realworld.py).
#
#     scripts/fetch-sources.sh sed gzip
#
# apt runs with a private configuration under build/apt/: its own sources
# list (deb-src lines for the mirror the host already uses for this
# release, read from /etc/apt/sources.list and sources.list.d, one-line and
# deb822 formats), its own lists, cache and state.  Nothing under /etc/apt
# or /var/lib/apt changes, and the host's next `apt-get update` does not
# start fetching source indexes.
#
# Cached: a package already unpacked is not looked at again (no network);
# one whose .dsc is cached but whose tree was removed is unpacked again
# from build/apt/archives/PKG/ (no network either).  FETCH_SOURCES_UPDATE=1
# refreshes the private index first.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SOURCES=${FETCH_SOURCES_DIR:-$ROOT/build/sources}
APTDIR=$ROOT/build/apt
[ $# -gt 0 ] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }

# --- what is already here needs nothing else (not even dpkg-source) ---
missing=""
for pkg in "$@"; do
	case "$pkg" in
	*[!a-z0-9.+-]* | "") echo "fetch-sources: bad package name '$pkg'" >&2; exit 2 ;;
	esac
	if [ -f "$SOURCES/$pkg/debian/control" ]; then
		echo "fetch-sources: $pkg: cached in $SOURCES/$pkg"
	else
		missing="$missing $pkg"
	fi
done
[ -z "$missing" ] && exit 0

command -v dpkg-source >/dev/null 2>&1 || {
	echo "fetch-sources: dpkg-source not found (apt-get install dpkg-dev)" >&2
	exit 1
}
mkdir -p "$SOURCES" "$APTDIR/sources.list.d" "$APTDIR/lists/partial" "$APTDIR/cache" \
	"$APTDIR/state" "$APTDIR/archives"

# The release to take sources from: the host's own (bookworm here).
# shellcheck disable=SC1091
CODENAME=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
CODENAME=${CODENAME:-bookworm}

# --- the private sources: deb-src twins of the host's entries for this
# release (CODENAME, CODENAME-updates, CODENAME-security; not backports:
# its sources are not what the host runs).  Options and Signed-By are kept,
# so the same keys verify the same mirror. ---
oneline() {
	# deb [opts] URI SUITE COMPONENT...  ->  deb-src [opts] URI SUITE COMPONENT...
	awk -v c="$CODENAME" '
	function keep(s) { return s == c || s == c "-updates" || s == c "-security" }
	{ sub(/#.*/, "") }
	$1 == "deb" || $1 == "deb-src" {
		i = 2; opts = ""
		if ($2 ~ /^\[/) {
			while (i <= NF) { opts = opts (opts == "" ? "" : " ") $i; if ($i ~ /\]$/) break; i++ }
			i++
		}
		uri = $i; suite = $(i + 1)
		if (uri == "" || !keep(suite)) next
		comps = ""
		for (k = i + 2; k <= NF; k++) comps = comps " " $k
		line = "deb-src " (opts == "" ? "" : opts " ") uri " " suite comps
		if (!(line in seen)) { seen[line] = 1; print line }
	}' "$@"
}

deb822() {
	# one stanza per blank-line-separated block; Types becomes deb-src,
	# Suites keeps only this release's, every other field (Signed-By with
	# an inline key included) is copied as it is
	awk -v c="$CODENAME" '
	function keep(s) { return s == c || s == c "-updates" || s == c "-security" }
	function flush(   n, i, w, out, t) {
		if (nf == 0) return
		out = ""; t = 0
		n = split(suites, w, /[ \t]+/)
		for (i = 1; i <= n; i++) if (w[i] != "" && keep(w[i])) out = out " " w[i]
		if (types ~ /(^|[ \t])deb(-src)?([ \t]|$)/ && out != "" && tolower(enabled) != "no") {
			print "Types: deb-src"
			print "Suites:" out
			for (i = 1; i <= nf; i++) print field[i]
			print ""
		}
		nf = 0; types = ""; suites = ""; enabled = ""
	}
	/^#/ { next }
	/^[ \t]*$/ { flush(); next }
	/^[ \t]/ { if (nf && !skip) field[nf] = field[nf] "\n" $0; next }
	{
		name = tolower(substr($0, 1, index($0, ":") - 1))
		value = substr($0, index($0, ":") + 1)
		gsub(/^[ \t]+|[ \t]+$/, "", value)
		skip = 0
		if (name == "types") { types = value; skip = 1; next }
		if (name == "suites") { suites = value; skip = 1; next }
		if (name == "enabled") enabled = value
		field[++nf] = $0
	}
	END { flush() }' "$@"
}

list="$APTDIR/sources.list"
parts="$APTDIR/sources.list.d"
: >"$list.new"
: >"$parts/host.sources.new"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] && oneline "$f" >>"$list.new"
done
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && deb822 "$f" >>"$parts/host.sources.new"
done
if [ ! -s "$list.new" ] && [ ! -s "$parts/host.sources.new" ]; then
	echo "fetch-sources: no $CODENAME entry in /etc/apt/sources.list{,.d/}" >&2
	exit 1
fi
# a changed host mirror means a stale index: refresh it
changed=0
cmp -s "$list.new" "$list" || changed=1
cmp -s "$parts/host.sources.new" "$parts/host.sources" || changed=1
mv "$list.new" "$list"
mv "$parts/host.sources.new" "$parts/host.sources"

# The rest of apt's configuration stays the host's (proxies, keys, the
# acquire settings), read as usual from /etc/apt/apt.conf.d; this file is
# read after it (Dir::Etc::main) and clears the hooks an update would run
# on the host's behalf (appstream's cache refresh, say).
cat >"$APTDIR/apt.conf" <<EOF
// written by scripts/fetch-sources.sh: apt for build/sources only
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
Dir::Etc::SourceList "$list";
Dir::Etc::SourceParts "$parts";
Dir::State "$APTDIR/state";
Dir::State::Lists "$APTDIR/lists";
Dir::State::status "/var/lib/dpkg/status";
Dir::Cache "$APTDIR/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
[ -f /etc/apt/apt.conf ] && sed -i "1a #include \"/etc/apt/apt.conf\";" "$APTDIR/apt.conf"
printf 'Dir::Etc::main "%s";\n' "$APTDIR/apt.conf" >"$APTDIR/apt-config"

# the -o options say it again, so that nothing read after the files (there
# is nothing, but apt's order has changed before) points apt back at /etc
aptget() {
	APT_CONFIG="$APTDIR/apt-config" apt-get -q \
		-o Dir::Etc::SourceList="$list" -o Dir::Etc::SourceParts="$parts" \
		-o Dir::State="$APTDIR/state" -o Dir::State::Lists="$APTDIR/lists" \
		-o Dir::Cache="$APTDIR/cache" "$@"
}

# downloads run as _apt when apt is run as root: give it the directories it
# writes to (or apt downloads unsandboxed, with a warning)
sandbox_dir() {
	if [ "$(id -u)" -eq 0 ] && getent passwd _apt >/dev/null 2>&1; then
		chown _apt "$1"
	fi
}
sandbox_dir "$APTDIR/lists/partial"

indexed() {
	for f in "$APTDIR"/lists/*_Sources*; do
		[ -f "$f" ] && return 0
	done
	return 1
}
first_dsc() {
	for f in "$1"/*.dsc; do
		[ -f "$f" ] && echo "$f" && return 0
	done
	return 0
}
update() {
	echo "fetch-sources: apt-get update (private index, $CODENAME sources)"
	aptget update >"$APTDIR/update.log" 2>&1 || {
		cat "$APTDIR/update.log" >&2
		exit 1
	}
}
if [ "${FETCH_SOURCES_UPDATE:-0}" = 1 ] || [ $changed = 1 ] || ! indexed; then
	update
fi

for pkg in $missing; do
	cache="$APTDIR/archives/$pkg"
	dsc=$(first_dsc "$cache")
	if [ -z "$dsc" ]; then
		tmp=$(mktemp -d "$APTDIR/archives/.get-$pkg.XXXXXX")
		sandbox_dir "$tmp"
		# a first failure may be a stale index (a security update replaced
		# the version it names): refresh once and retry
		if ! (cd "$tmp" && aptget source --download-only "$pkg" >"$tmp.log" 2>&1); then
			update
			(cd "$tmp" && aptget source --download-only "$pkg" >"$tmp.log" 2>&1) || {
				cat "$tmp.log" >&2
				rm -rf "$tmp" "$tmp.log"
				exit 1
			}
		fi
		rm -rf "$cache"
		mv "$tmp" "$cache"
		rm -f "$tmp.log"
		chown -R "$(id -u):$(id -g)" "$cache"
		dsc=$(first_dsc "$cache")
		echo "fetch-sources: $pkg: downloaded $(basename "$dsc")"
	fi
	# apt checked the files against the signed index; dpkg-source applies
	# Debian's patches.  Unpacked beside, then moved: an interrupted run
	# leaves no half tree that the cache check above would take as done.
	rm -rf "$SOURCES/.$pkg.new"
	dpkg-source --no-check --no-copy -x "$dsc" "$SOURCES/.$pkg.new" >/dev/null
	rm -rf "${SOURCES:?}/$pkg"
	mv "$SOURCES/.$pkg.new" "$SOURCES/$pkg"
	echo "fetch-sources: $pkg: unpacked in $SOURCES/$pkg"
done
