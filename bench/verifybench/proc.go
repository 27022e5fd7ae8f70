package main

import "github.com/sluice-dev/sluice/bench/benchproc"

// otherCPU names the machine's busy time not used by the measured processes.
const otherCPU = "other"

// serverMeter measures both servers' CPU (and the machine's).
func (b *bench) serverMeter() *benchproc.Meter {
	m := &benchproc.Meter{Other: otherCPU}
	m.Add("source mariadbd", b.srcPID)
	m.Add("destination mariadbd", b.dstPID)
	return m
}
