#!/usr/bin/env bash
# A backup of the relay nodes' database, consistent at one moment, while they serve:
#   deploy/backup.sh postgres://livret@db.internal/livret /var/backups/livret
# Prints the dump's path. The relay holds ciphertext and metadata only; the dump still
# says who works on which dossier: keep it as private as the database.
#
# Evidence in a bucket (`--evidence`): copy the bucket *after* the dump (pieces are
# written once and never changed, so a later copy holds every piece the dump names), e.g.
# with bucket versioning or replication on the storage side.
#
# What a dump does not hold: what was acknowledged after it. For restores that lose
# nothing, archive the WAL continuously (deploy/postgresql/livret.conf, archive_command)
# and restore to the last archived moment; see deploy/README.md.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 DATABASE_URL BACKUP_DIRECTORY" >&2
    exit 2
fi
url=$1
dir=$2
mkdir -p "$dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
target="$dir/livret-$stamp.dump"
# Custom format: compressed, restored table by table, checked by pg_restore --list.
pg_dump --format=custom --no-owner --no-privileges --file "$target.partial" "$url"
pg_restore --list "$target.partial" >/dev/null
mv "$target.partial" "$target"
echo "$target"
