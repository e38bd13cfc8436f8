// Package clidoc turns a description of a command line (its subcommands,
// their help texts and their pflag flag sets) into man pages and into
// bash, zsh and fish completion, with spf13/cobra's generators
// (cobra/doc for roff, cobra's completion scripts and its __complete
// protocol). WriteMan is built only with the tag mangen (make install
// builds it so): cobra/doc's markdown and YAML packages would otherwise
// be linked into supersede, and their initialisation would slow every
// run of it by about half a millisecond. It is the only package that imports cobra: the commands
// themselves keep their own dispatch and parse their flags with pflag,
// since cobra's dispatch would change what they print on bad input, and
// Supervisor's commands (`supersede ctl`, `supersede run`) must print
// what supervisorctl and supervisord print. Here a cobra command tree is
// built from the description only to generate from it.
//
// It must not import the code under test: cmd/supersede describes its
// commands, and completes their arguments through Command.Args.
package clidoc

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Program describes a command with subcommands.
type Program struct {
	Name     string         // "supersede"
	Summary  string         // one line, for NAME in the man page
	About    string         // paragraphs: the man page's DESCRIPTION
	Version  string         // for the man page's footer
	Flags    *pflag.FlagSet // the program's own flags (before a subcommand); may be nil
	Commands []Command
}

// Command describes one subcommand.
type Command struct {
	Name     string         // "convert"
	Summary  string         // one line
	Synopsis string         // what follows "PROG NAME" in the usage line
	About    string         // paragraphs after the synopsis
	Flags    *pflag.FlagSet // its flags; may be nil
	// FlagsFirst says that flags end at the first argument, as with
	// getopt (supervisorctl): what follows is the action's.
	FlagsFirst bool
	// DirFlags are the flags whose value is a directory (completed as
	// one); other flags with a value complete file names.
	DirFlags []string
	// Args completes a positional argument: args are the arguments
	// before the one being typed, toComplete what is typed of it. Nil
	// means file names.
	Args func(flags *pflag.FlagSet, args []string, toComplete string) []string
}

// tree builds the cobra commands of p. They are never executed but for
// the __complete protocol, whose Run is cobra's own.
func (p *Program) tree() *cobra.Command {
	root := &cobra.Command{
		Use:                   p.Name,
		Short:                 p.Summary,
		Long:                  p.About,
		DisableFlagsInUseLine: true,
		DisableAutoGenTag:     true,
		Run:                   func(*cobra.Command, []string) {},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.Flags().SortFlags = false
	addFlags(root.Flags(), p.Flags)
	for _, c := range p.Commands {
		cc := &cobra.Command{
			Use:                   strings.TrimSpace(c.Name + " " + c.Synopsis),
			Short:                 c.Summary,
			Long:                  c.About,
			DisableFlagsInUseLine: true,
			DisableAutoGenTag:     true,
			Run:                   func(*cobra.Command, []string) {},
		}
		cc.Flags().SortFlags = false
		addFlags(cc.Flags(), c.Flags)
		cc.Flags().SetInterspersed(!c.FlagsFirst)
		for _, name := range c.DirFlags {
			cc.MarkFlagDirname(name)
		}
		if c.Args != nil {
			args := c.Args
			cc.ValidArgsFunction = func(cmd *cobra.Command, before []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return args(cmd.Flags(), before, toComplete), cobra.ShellCompDirectiveNoFileComp
			}
		}
		if c.Name == "help" {
			root.SetHelpCommand(cc)
		} else {
			root.AddCommand(cc)
		}
	}
	return root
}

// addFlags adds copies of the flags of from to to, their usage texts
// without the backquotes that name a flag's value for pflag's help.
func addFlags(to, from *pflag.FlagSet) {
	if from == nil {
		return
	}
	from.VisitAll(func(f *pflag.Flag) {
		c := *f
		_, c.Usage = pflag.UnquoteUsage(f)
		to.AddFlag(&c)
	})
}

// Shells are the shells WriteCompletion writes for.
var Shells = []string{"bash", "zsh", "fish"}

// WriteCompletion writes the completion script of p for shell. The
// script calls `PROG __complete ARGS...` for the candidates, which the
// program serves with Complete.
func WriteCompletion(p *Program, shell string, w io.Writer) error {
	root := p.tree()
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	}
	return fmt.Errorf("no completion for shell %q (want %s)", shell, strings.Join(Shells, ", "))
}

// CompleteCommand and CompleteNoDescCommand are the hidden commands the
// completion scripts run; the program passes them to Complete.
const (
	CompleteCommand       = cobra.ShellCompRequestCmd
	CompleteNoDescCommand = cobra.ShellCompNoDescRequestCmd
)

// Complete serves `PROG __complete ARGS...` (how is CompleteCommand or
// CompleteNoDescCommand): it writes the candidates for the last of args
// (what is typed of the word being completed) to w, in cobra's protocol.
func Complete(p *Program, how string, args []string, w io.Writer) error {
	if how != CompleteCommand && how != CompleteNoDescCommand {
		return fmt.Errorf("clidoc.Complete: %q is not a completion request", how)
	}
	root := p.tree()
	root.SetArgs(append([]string{how}, args...))
	root.SetOut(w)
	root.SetErr(io.Discard)
	return root.Execute()
}
