import type { Command as Program } from 'commander';

/** A command as completion offers it: its names and a short description. */
interface Entry {
  names: string[];
  description: string;
  subcommands: Entry[];
}

/** The commands whose first argument is an event name; the scripts ask `ksi completion --events` for those. */
const EVENT_COMMANDS = ['send', 'help'];

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

function entries(program: Program): Entry[] {
  return program.commands.map((command) => ({
    names: [command.name(), ...command.aliases()],
    description: command.description().split(/[;(]/)[0].trim().slice(0, 70),
    subcommands: entries(command),
  }));
}

const quoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** The completion script for `shell`, from the command tree itself: commands, subcommands, aliases, and event names. */
export function completionScript(shell: Shell, program: Program): string {
  const commands = entries(program);
  if (shell === 'bash') return bash(commands);
  if (shell === 'zsh') return zsh(commands);
  return fish(commands);
}

function bash(commands: Entry[]): string {
  const groups = commands
    .filter((command) => command.subcommands.length > 0)
    .map((command) => `    ${command.names.join('|')}) words=${quoted(command.subcommands.flatMap((sub) => sub.names).join(' '))} ;;`);
  return `# ksi completion for bash: eval "$(ksi completion bash)" (in ~/.bashrc)
_ksi() {
  # Words as typed, split at spaces only (COMP_WORDS splits state:get into three).
  local line=\${COMP_LINE:0:$COMP_POINT}
  local -a parts
  read -ra parts <<< "$line"
  local position=$((\${#parts[@]} - 1))
  local cur=\${parts[position]}
  if [[ "$line" == *' ' ]]; then
    position=\${#parts[@]}
    cur=''
  fi
  local words=''
  if [ "$position" -eq 1 ]; then
    words=${quoted(commands.flatMap((command) => command.names).join(' '))}
  elif [ "$position" -eq 2 ]; then
    case "\${parts[1]}" in
    ${EVENT_COMMANDS.join('|')}) words="$(ksi completion --events 2>/dev/null)" ;;
${groups.join('\n')}
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  # Bash splits words at ':' (state:get): offer only what follows the last one typed.
  if [[ "$cur" == *:* ]]; then
    local typed=\${cur%"\${cur##*:}"}
    COMPREPLY=("\${COMPREPLY[@]#"$typed"}")
  fi
}
complete -F _ksi ksi
`;
}

function zsh(commands: Entry[]): string {
  const described = (list: Entry[]) => list.flatMap((entry) => entry.names.map((name) => quoted(`${name}:${entry.description}`))).join(' ');
  const groups = commands
    .filter((command) => command.subcommands.length > 0)
    .map((command) => `      ${command.names.join('|')}) subcommands=(${described(command.subcommands)}); _describe 'subcommand' subcommands ;;`);
  return `#compdef ksi
# ksi completion for zsh: eval "$(ksi completion zsh)" (in ~/.zshrc, after compinit)
_ksi() {
  local -a commands subcommands events
  if (( CURRENT == 2 )); then
    commands=(${described(commands)})
    _describe 'command' commands
  elif (( CURRENT == 3 )); then
    case $words[2] in
      ${EVENT_COMMANDS.join('|')}) events=(\${(f)"$(ksi completion --events 2>/dev/null)"}); compadd -a events ;;
${groups.join('\n')}
    esac
  fi
}
compdef _ksi ksi
`;
}

function fish(commands: Entry[]): string {
  const top = commands.map((command) => command.names.map((name) => `complete -c ksi -n __fish_use_subcommand -a ${quoted(name)} -d ${quoted(command.description)}`).join('\n'));
  const subs = commands
    .filter((command) => command.subcommands.length > 0)
    .flatMap((command) => {
      const all = command.subcommands.flatMap((sub) => sub.names).join(' ');
      return command.subcommands.flatMap((sub) =>
        sub.names.map((name) => `complete -c ksi -n ${quoted(`__fish_seen_subcommand_from ${command.names.join(' ')}; and not __fish_seen_subcommand_from ${all}`)} -a ${quoted(name)} -d ${quoted(sub.description)}`),
      );
    });
  return `# ksi completion for fish: ksi completion fish > ~/.config/fish/completions/ksi.fish
complete -c ksi -f
${top.join('\n')}
${subs.join('\n')}
complete -c ksi -n ${quoted(`__fish_seen_subcommand_from ${EVENT_COMMANDS.join(' ')}`)} -a '(ksi completion --events 2>/dev/null)'
`;
}
