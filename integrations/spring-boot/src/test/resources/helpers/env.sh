#!/bin/sh
# answers each line with the value of the variable it names ("unset" when it is not set)
while read -r name; do
  eval "value=\${$name-unset}"
  printf '%s\n' "$value"
done
