#!/bin/sh
# echoes lines until "record 500", then dies saying so
while read -r l; do
  if [ "$l" = "record 500" ]; then echo "doomed at $l" >&2; exit 3; fi
  echo "$l"
done
