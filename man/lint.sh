#!/bin/sh
# Lint a manual page with mandoc at warning level; any message fails.
# Skips (exit 77) when mandoc is missing, unless SMTPW_REQUIRE_INTEROP=1.
page=$1
if ! command -v mandoc >/dev/null 2>&1; then
    if [ "${SMTPW_REQUIRE_INTEROP:-0}" = 1 ]; then
        echo "FAIL: mandoc is required (SMTPW_REQUIRE_INTEROP=1) but missing"
        exit 1
    fi
    echo "mandoc not found (apt-get install mandoc): skipped"
    exit 77
fi
out=$(mandoc -T lint -W warning "$page" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
    printf '%s\n' "$out"
    echo "FAIL: mandoc -T lint -W warning $page (exit $rc)"
    exit 1
fi
echo "ok: $page lints clean"
