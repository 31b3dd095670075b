#!/usr/bin/env bash
# Restores a dump made by deploy/backup.sh into an EMPTY database, in one transaction
# (all or nothing), with every relay node stopped:
#   systemctl stop 'livret@*'
#   createdb -O livret livret_restored
#   deploy/restore.sh /var/backups/livret/livret-….dump postgres://livret@db.internal/livret_restored
#   (point LIVRET_STORE at it, or rename the databases), then start the nodes again.
# Devices reconnect and catch up; what they hold that the dump lacks is theirs still.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 DUMP DATABASE_URL" >&2
    exit 2
fi
dump=$1
url=$2
tables=$(psql --no-psqlrc --tuples-only --no-align --dbname "$url" \
    --command "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
if [ "$tables" != "0" ]; then
    echo "$0: the database is not empty ($tables tables): restore into an empty one" >&2
    exit 1
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname "$url" "$dump"
echo "restored $dump"
