// Command llmrouter is an LLM router and API gateway: one endpoint speaking the
// OpenAI and Anthropic APIs, routing each request by model to an OpenAI, Anthropic
// or Ollama upstream and translating between their formats.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

const usage = `usage:
  llmrouter [serve] [-config FILE]     start the router
  llmrouter check -config FILE         validate a config and print a summary
  llmrouter explain -config FILE [-endpoint PATH] [-H 'Name: value'] [request.json]
                                       print the upstream request a client request causes
  llmrouter version                    print the version
`

// run dispatches a subcommand and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stderr)
	case "check":
		return check(args, stdout, stderr)
	case "explain":
		return explain(args, stdin, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "llmrouter", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "llmrouter: unknown command %q\n%s", cmd, usage)
	return 2
}
