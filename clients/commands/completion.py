"""`infracast completion bash|zsh|fish`: shell completion scripts, generated from the parser.

Generated rather than written by hand so a new command or option completes without
anyone remembering to update a script.
"""

from __future__ import annotations

import argparse

from infracast.clients.commands.arguments import command

EXAMPLES = """
infracast completion bash > ~/.local/share/bash-completion/completions/infracast
infracast completion zsh > "${fpath[1]}/_infracast"
infracast completion fish > ~/.config/fish/completions/infracast.fish
"""

SHELLS = ("bash", "zsh", "fish")


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(o for action in parser._actions for o in action.option_strings if o.startswith("--"))


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _positional_choices(parser: argparse.ArgumentParser) -> list[str]:
    return [str(c) for action in parser._actions if not action.option_strings and action.choices
            and not isinstance(action, argparse._SubParsersAction) for c in action.choices]


def _choices(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    return {o: [str(c) for c in action.choices] for action in parser._actions if action.choices
            and not isinstance(action, argparse._SubParsersAction) for o in action.option_strings}


def bash_script(parser: argparse.ArgumentParser) -> str:
    commands = _subcommands(parser)
    cases = "\n".join(
        f'        {name}) opts="{" ".join(_options(sub) + _positional_choices(sub))}" ;;'
        for name, sub in commands.items())
    values = "\n".join(
        f'        {option}) COMPREPLY=($(compgen -W "{" ".join(values)}" -- "$cur")); return ;;'
        for sub in [parser, *commands.values()] for option, values in _choices(sub).items())
    return f"""# bash completion for infracast (infracast completion bash)
_infracast() {{
    local cur prev cmd opts word
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    case "$prev" in
{values}
    esac
    cmd=""
    for word in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
        case "$word" in {"|".join(commands)}) cmd="$word"; break ;; esac
    done
    case "$cmd" in
        "") opts="{" ".join(_options(parser))} {" ".join(commands)}" ;;
{cases}
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}}
complete -o default -F _infracast infracast
"""


def zsh_script(parser: argparse.ArgumentParser) -> str:
    # zsh runs bash completions through bashcompinit: one generator, two shells.
    return ("#compdef infracast\n# zsh completion for infracast (infracast completion zsh)\n"
            "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(parser).split("\n", 1)[1])


def _fish_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def fish_script(parser: argparse.ArgumentParser) -> str:
    commands = _subcommands(parser)
    lines = ["# fish completion for infracast (infracast completion fish)", "complete -c infracast -f"]
    names = " ".join(commands)
    for name, sub in commands.items():
        lines.append(f"complete -c infracast -n 'not __fish_seen_subcommand_from {names}' -a {name} "
                     f"-d '{_fish_escape((sub.description or '').split('.')[0])}'")
        if choices := _positional_choices(sub):
            lines.append(f"complete -c infracast -n '__fish_seen_subcommand_from {name}' "
                         f"-a '{' '.join(choices)}'")
    for condition, sub in [(f"not __fish_seen_subcommand_from {names}", parser),
                           *((f"__fish_seen_subcommand_from {n}", s) for n, s in commands.items())]:
        for action in sub._actions:
            for option in action.option_strings:
                if not option.startswith("--"):
                    continue
                values = f" -xa '{' '.join(str(c) for c in action.choices)}'" if action.choices else ""
                helptext = _fish_escape((action.help or "").replace("%%", "%").split("(")[0].strip())
                lines.append(
                    f"complete -c infracast -n '{condition}' -l {option[2:]}{values} -d '{helptext}'")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    script = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[args.shell](args.root_parser)
    print(script, end="")
    return 0


def register(commands, root: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = command(commands, "completion", "print a shell completion script", EXAMPLES)
    parser.add_argument("shell", choices=SHELLS)
    parser.set_defaults(local=run, root_parser=root)
    return parser
