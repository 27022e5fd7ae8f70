// Package etl compiles and evaluates the CEL row filters and transforms of workflow files.
package etl

import _ "cel.dev/cel-go/cel"
