// Package etl compiles and evaluates the CEL row filters and transforms of
// workflow files against a table's real columns: type-checked before anything is
// copied, evaluated the same way in the full copy, in replication and in
// verification. README.md records the language and the decisions.
package etl
