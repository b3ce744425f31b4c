// Command llmrouter is an LLM router and API gateway: one endpoint speaking the
// OpenAI and Anthropic APIs, routing each request by model to an OpenAI, Anthropic
// or Ollama upstream and translating between their formats.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/redact"
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

// run dispatches a subcommand and returns the process exit code. Without one,
// the arguments are serve's flags; -h alone asks for the commands.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	switch {
	case len(args) == 1 && isHelp(args[0]):
		cmd, args = "help", nil
	case len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-':
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
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "llmrouter: unknown command %q\n%s", cmd, usage)
	return 2
}

// isHelp reports whether a lone argument asks for help.
func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// flagSet returns a subcommand's flags, whose usage (on -h, or after a wrong
// flag) is the subcommand's line of the commands' usage and its own flags.
func flagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage:\n%sflags:\n", synopsis(name))
		fs.PrintDefaults()
	}
	return fs
}

// synopsis returns the lines of usage that describe command name.
func synopsis(name string) string {
	var b strings.Builder
	in := false
	for line := range strings.Lines(usage) {
		switch {
		case strings.HasPrefix(line, "  llmrouter "):
			f := strings.Fields(line)
			in = f[1] == name || f[1] == "["+name+"]"
		case !strings.HasPrefix(line, "   "):
			in = false
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.String()
}

// parseFlags parses a subcommand's arguments: ok is false when the command
// must end, with code (0 after -h, 2 after a wrong flag, already reported).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0, false
	case err != nil:
		return 2, false
	}
	return 0, true
}

func check(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("check", stderr)
	path := fs.String("config", "", "config file to validate")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := loadConfig(*path)
	if err == nil {
		_, err = gateway.New(cfg, logging.New(cfg.Logging, io.Discard, nil))
		if err != nil {
			// A transform or header rule may quote a key (a regex written to
			// redact it): scrubbed like everything else the router prints.
			err = errors.New(redact.Scrub(err.Error(), append(gateway.Secrets(cfg), cfg.Secrets()...)...))
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "llmrouter: %s is invalid:\n%v\n", sourceName(*path), err)
		return 1
	}
	fmt.Fprintf(stdout, "%s is valid\n%s", cfg.Source, config.Summary(cfg))
	return 0
}

func sourceName(p string) string {
	if p := config.Resolve(p); p != "" {
		return p
	}
	return "embedded default"
}
