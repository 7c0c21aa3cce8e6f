/** `--help` text, made from the command table. */
import { COMMANDS, type CommandSpec, ENVIRONMENT, type OptionSpec, TOP_OPTIONS } from './commands.ts'

export function optionLabel (o: OptionSpec): string {
  const long = `--${o.name}${o.value === undefined ? '' : ` ${o.value}`}`
  return o.short === undefined ? `    ${long}` : `-${o.short}, ${long}`
}

export function synopsis (c: CommandSpec): string {
  const opts = c.options.filter(o => o.name !== 'help').map(o => {
    const flagText = o.short === undefined ? `--${o.name}` : `-${o.short}`
    const text = o.value === undefined ? flagText : `${flagText} ${o.value}`
    return o.multiple === true ? `[${text}]...` : `[${text}]`
  })
  return ['tslb', c.name, ...(c.args === undefined ? [] : [c.args]), ...opts].join(' ')
}

function wrap (text: string, width: number, indent: string): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  if (line !== '') lines.push(line)
  return lines.map(l => `${indent}${l}`).join('\n')
}

function optionsBlock (options: readonly OptionSpec[]): string {
  return options.map(o => {
    const label = `  ${optionLabel(o)}`
    const help = wrap(o.help, 72, ' '.repeat(8))
    return `${label}\n${help}`
  }).join('\n')
}

export function commandHelp (c: CommandSpec): string {
  return [
    `Usage: ${synopsis(c)}`,
    '',
    wrap(c.summary.charAt(0).toUpperCase() + c.summary.slice(1) + '.', 78, ''),
    '',
    ...c.description.flatMap(p => [wrap(p, 78, ''), '']),
    'Options:',
    optionsBlock(c.options),
    ''
  ].join('\n')
}

export function topHelp (): string {
  return [
    'Usage: tslb COMMAND [options]',
    '       tslb -v | -vv | --help',
    '',
    'Commands:',
    ...COMMANDS.map(c => `  ${`${c.name}${c.args === undefined ? '' : ` ${c.args}`}`.padEnd(25)}${c.summary}`),
    '',
    "Run 'tslb COMMAND --help' for a command's options.",
    '',
    'Options:',
    optionsBlock(TOP_OPTIONS),
    '',
    'Environment:',
    ...ENVIRONMENT.map(([k, v]) => `  ${k}: ${v}`),
    ''
  ].join('\n')
}
