#!/bin/sh
# a slow cat: 4 KiB at a time, 2 ms apart (dd exits 0 with nothing left at end of input)
while :; do
  chunk=$(dd bs=4096 count=1 status=none; echo x)
  chunk=${chunk%x}
  [ -z "$chunk" ] && exit 0
  printf "%s" "$chunk"
  sleep 0.002
done
