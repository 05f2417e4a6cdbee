#!/bin/sh
# Writes on stdout without end: for the output limit.
exec yes "flood flood flood"
