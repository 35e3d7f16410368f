#!/bin/sh
echo resource-helper
