#!/bin/sh
# answers each line with the line and where this script was executed from
while read -r l; do echo "$l $(readlink "$0")"; done
