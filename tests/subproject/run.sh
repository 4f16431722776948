#!/bin/sh
# smtpwire as a meson subproject (tests/run.sh step): a tiny parent project
# (meson.build, main.c beside this script) with smtpwire in its subprojects/,
# on a machine where cmocka cannot be found (pkg-config sees an empty
# directory, meson is given no cmake).  Checks that
#   1. the parent configures, builds and runs, and that smtpwire contributes
#      its library and nothing else: no test, benchmark, example or internal
#      library target, nothing of smtpwire installed but the library;
#   2. -Dsmtpwire:tests=enabled makes cmocka required (configure fails);
#   3. -Dsmtpwire:examples=enabled brings the examples back;
#   4. smtpwire alone, as the main project, configures without cmocka
#      (tests off) and keeps its examples.
# Usage: sh tests/subproject/run.sh   (needs meson, ninja, a C compiler, python3)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpwire-subproject.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

cp "$here/meson.build" "$here/main.c" "$tmp/"
mkdir "$tmp/subprojects" "$tmp/empty-pkgconfig"
ln -s "$src" "$tmp/subprojects/smtpwire"

# A machine without cmocka: no .pc file on pkg-config's path (nor any other,
# so the parent cannot pick up an installed smtpwire either), no cmake.
export PKG_CONFIG_LIBDIR="$tmp/empty-pkgconfig" PKG_CONFIG_PATH=""
printf "[binaries]\ncmake = 'false'\n" > "$tmp/native.ini"
if pkg-config --exists cmocka 2>/dev/null; then fail "cmocka still visible to pkg-config"; fi
setup() { meson setup --native-file "$tmp/native.ini" "$@"; }

# Fails when an introspection list names anything of smtpwire's but the library.
check_targets() {
    python3 - "$1" "$2" <<'PY'
import json, subprocess, sys
build, allow_examples = sys.argv[1], sys.argv[2] == "1"
def intro(what):
    return json.loads(subprocess.check_output(["meson", "introspect", build, what]))
ours = [t for t in intro("--targets") if t.get("subproject") == "smtpwire"]
names = sorted({t["name"] for t in ours})
allowed = {"smtpwire"} | ({"smtpwire-server", "smtpwire-send", "embed-static"}
                          if allow_examples else set())
bad = [n for n in names if n not in allowed]
tests = [t["name"] for t in intro("--tests") + intro("--benchmarks") if t["name"] != "parent"]
print("smtpwire targets:", ", ".join(names))
if "smtpwire" not in names:
    sys.exit("the library itself is missing")
if bad or tests:
    sys.exit("built for the parent without being asked: %s" % ", ".join(bad + tests))
if allow_examples and "smtpwire-server" not in names:
    sys.exit("-Dsmtpwire:examples=enabled did not bring the examples")
PY
}

echo "== 1. parent project, smtpwire as a subproject, no cmocka"
setup "$tmp/build" "$tmp" >"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; fail "parent does not configure"; }
check_targets "$tmp/build" 0 || fail "smtpwire builds more than its library for a parent"
ninja -C "$tmp/build" >"$tmp/ninja.log" 2>&1 || { cat "$tmp/ninja.log"; fail "parent does not build"; }
"$tmp/build/parent" || fail "parent does not run"
meson test -C "$tmp/build" --print-errorlogs >/dev/null || fail "parent's own test fails"
# What ninja actually built, whatever introspection says.
built=$(cd "$tmp/build/subprojects/smtpwire" && find . -type f \( -perm -u+x -o -name '*.a' \) |
        grep -v -E '^\./lib/libsmtpwire\.(a|so[.0-9]*)$' || true)
[ -z "$built" ] || fail "unexpected files built in smtpwire's build dir: $built"
installed=$(meson introspect "$tmp/build" --installed | python3 -c '
import json, sys
for dst in json.load(sys.stdin).values():
    if "/bin/" in dst or "smtpwire_internal" in dst:
        print(dst)')
[ -z "$installed" ] || fail "the parent would install: $installed"

echo "== 2. -Dsmtpwire:tests=enabled without cmocka must fail"
if setup "$tmp/build-tests" "$tmp" -Dsmtpwire:tests=enabled >"$tmp/setup2.log" 2>&1; then
    fail "configured with tests enabled although cmocka is missing"
fi
grep -q cmocka "$tmp/setup2.log" || { cat "$tmp/setup2.log"; fail "failure does not name cmocka"; }

echo "== 3. -Dsmtpwire:examples=enabled"
setup "$tmp/build-ex" "$tmp" -Dsmtpwire:examples=enabled >"$tmp/setup3.log" 2>&1 ||
    { cat "$tmp/setup3.log"; fail "parent with examples does not configure"; }
check_targets "$tmp/build-ex" 1 || fail "examples on request"

echo "== 4. smtpwire alone, no cmocka: configures, tests off, examples on"
setup "$tmp/build-main" "$src" >"$tmp/setup4.log" 2>&1 ||
    { cat "$tmp/setup4.log"; fail "smtpwire alone does not configure without cmocka"; }
python3 - "$tmp/build-main" <<'PY' || fail "smtpwire alone without cmocka"
import json, subprocess, sys
names = {t["name"] for t in json.loads(subprocess.check_output(
    ["meson", "introspect", sys.argv[1], "--targets"]))}
if "smtpwire-server" not in names or any(n.startswith("test_") or n == "smtpwire_internal"
                                         for n in names):
    sys.exit("targets: %s" % sorted(names))
PY
echo "subproject: OK"
