#!/usr/bin/env bash
# Checks Cargo.lock with cargo-deny (deny.toml: advisories and bans) against a RustSec advisory-db
# snapshot, offline: CI reaches only package registries. A known advisory that deny.toml does not
# ignore fails the run. The snapshot sits beside the checkout, or where STRATO_ADVISORY_DB points;
# without one the in-repo subset for this lock file is used (tests/advisory-db/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

full="${STRATO_ADVISORY_DB:-$PWD/../shared/advisory-db}"
subset="$PWD/tests/advisory-db"
if [ -d "$full/crates" ]; then
    snapshot="$full"
    # Keep the in-repo subset (tests/advisory-db/README.md) covering every crate of the lock file.
    sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.lock | sort -u | while read -r name; do
        if [ -d "$full/crates/$name" ] && [ ! -d "$subset/crates/$name" ]; then
            echo "tests/advisories.sh: $name has advisories but is missing from tests/advisory-db; copying it there" >&2
            mkdir -p "$subset/crates"
            cp -R "$full/crates/$name" "$subset/crates/"
        fi
    done
    [ "${1:-}" = "--refresh-subset" ] && exit 0
elif [ -d "$subset/crates" ]; then
    snapshot="$subset"
else
    echo "tests/advisories.sh: no RustSec advisory database at $full or $subset" >&2
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

# cargo-deny --offline reads crate metadata from Cargo's registry cache: fill it first, or a fresh
# machine fails with "no matching package" before any advisory is checked.
cargo fetch --locked --quiet
STRATO_ADVISORY_DBS="$dbs" cargo deny --offline check advisories bans
