// Command go-parse runs go/parser.ParseExpr, as github.com/gravitational/predicate does, on
// each string of a JSON list (the file named by the first argument) and prints the errors as a
// JSON list ("" where an input parses). The contract tests compare our reading of Go's
// expression syntax (src/model/expression/go-syntax.ts) with it.
package main

import (
	"encoding/json"
	"fmt"
	"go/parser"
	"os"
)

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var inputs []string
	if err := json.Unmarshal(raw, &inputs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := make([]string, len(inputs))
	for i, s := range inputs {
		if _, err := parser.ParseExpr(s); err != nil {
			out[i] = err.Error()
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
