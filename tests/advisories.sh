#!/usr/bin/env bash
# Checks Cargo.lock with cargo-deny (deny.toml: advisories and bans) against a RustSec advisory-db
# snapshot, offline: CI reaches only package registries. A known advisory that deny.toml does not
# ignore fails the run. The snapshot sits beside the checkout, or where STRATO_ADVISORY_DB points.
set -euo pipefail
cd "$(dirname "$0")/.."

snapshot="${STRATO_ADVISORY_DB:-$PWD/../shared/advisory-db}"
if [ ! -d "$snapshot/crates" ]; then
    echo "tests/advisories.sh: no RustSec advisory database at $snapshot" >&2
    echo "  set STRATO_ADVISORY_DB to a copy of https://github.com/rustsec/advisory-db" >&2
    exit 1
fi

# cargo-deny opens <db-path>/advisory-db-<hash of the db-urls entry in deny.toml> and takes the
# mtime of .git/FETCH_HEAD as the database's age (checked against maximum-db-staleness), so the
# copy gets the snapshot's own date, never today's.
if git -C "$snapshot" rev-parse --git-dir >/dev/null 2>&1; then
    taken=$(git -C "$snapshot" log -1 --format=%cI)
else
    taken=$(sed -n 's/.*(\([0-9]\{4\}-[0-9]\{2\}-[0-9]\{2\}\)).*/\1/p' "$snapshot/SNAPSHOT" 2>/dev/null | head -n 1)
fi
if [ -z "$taken" ]; then
    echo "tests/advisories.sh: cannot tell when $snapshot was taken (no git history, no date in SNAPSHOT)" >&2
    exit 1
fi
dbs="${CARGO_TARGET_DIR:-$PWD/target}/advisory-dbs"
db="$dbs/advisory-db-3157b0e258782691"
rm -rf "$db"
mkdir -p "$db/.git"
cp -R "$snapshot/." "$db/"
touch -d "$taken" "$db/.git/FETCH_HEAD"

STRATO_ADVISORY_DBS="$dbs" cargo deny --offline check advisories bans
