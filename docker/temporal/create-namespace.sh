#!/bin/sh
# Registers the namespace the sluice worker polls (the server image, unlike the old
# auto-setup image, creates none). The temporal CLI reads TEMPORAL_ADDRESS.
set -eu
ns=${SLUICE_NAMESPACE:-default}

for i in $(seq 1 60); do
	temporal operator cluster health >/dev/null 2>&1 && break
	echo "waiting for the Temporal frontend at $TEMPORAL_ADDRESS ($i)"
	sleep 2
done

if temporal operator namespace describe --namespace "$ns" >/dev/null 2>&1; then
	echo "namespace $ns exists"
else
	# Closed workflows (and their precheck reports) stay visible for a week.
	temporal operator namespace create --namespace "$ns" --retention 168h
	echo "namespace $ns created"
fi
