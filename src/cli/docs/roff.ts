/**
 * Markdown as docs/ writes it (headings, paragraphs, tables, lists, code blocks, `code`,
 * **bold**, [links](…)) to man(7) roff. Tables become tagged paragraphs: the first cell is
 * the tag, the other cells follow with their column names.
 */

/**
 * Escapes text for roff: backslashes, dashes, a leading `.` or `'` that would read as a request,
 * and anything outside ASCII as a named Unicode character (groff reads bytes as Latin-1).
 */
export function escapeRoff (text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/, '\\&$1')
    .replace(/[^\t\n -~]/gu, c => `\\[u${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}]`)
}

/** Inline markdown to roff fonts. */
export function inline (text: string): string {
  let out = ''
  const pattern = /`([^`]*)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\([^)]*\)/g
  let last = 0
  for (const m of text.matchAll(pattern)) {
    out += escapeRoff(text.slice(last, m.index))
    if (m[1] !== undefined) out += `\\fB${escapeRoff(m[1])}\\fR`
    else if (m[2] !== undefined) out += `\\fB${escapeRoff(m[2])}\\fR`
    else out += escapeRoff(m[3] ?? '')
    last = m.index + m[0].length
  }
  return (out + escapeRoff(text.slice(last))).replace(/^([.'])/, '\\&$1')
}

function cells (row: string): string[] {
  // A `|` inside backticks or escaped as `\|` is part of the cell.
  const out: string[] = []
  let cell = ''
  let code = false
  const body = row.trim().replace(/^\|/, '').replace(/\|$/, '')
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string
    if (c === '\\' && body[i + 1] === '|') {
      cell += '|'
      i++
    } else if (c === '`') {
      code = !code
      cell += c
    } else if (c === '|' && !code) {
      out.push(cell.trim())
      cell = ''
    } else {
      cell += c
    }
  }
  out.push(cell.trim())
  return out
}

function table (rows: string[]): string[] {
  const [header, , ...body] = rows.map(cells)
  const names = header ?? []
  const out: string[] = []
  for (const row of body) {
    out.push('.TP', inline(row[0] ?? ''))
    const rest = row.slice(1).map((c, i) => c === '' || c === '—' ? '' : `${names[i + 1] ?? ''}: ${c}`).filter(c =>
      c !== '')
    out.push(rest.map(inline).join('\n.br\n'))
  }
  return out
}

/** The markdown body of a document (its first `# ` title dropped) as roff lines. */
export function markdownToRoff (markdown: string): string[] {
  const lines = markdown.split('\n')
  const out: string[] = []
  let paragraph: string[] = []
  const flush = (): void => {
    if (paragraph.length > 0) out.push('.PP', inline(paragraph.join(' ')))
    paragraph = []
  }
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    if (line.startsWith('```')) {
      flush()
      out.push('.PP', '.nf', '.RS 4')
      for (i++; i < lines.length && !(lines[i] as string).startsWith('```');
        i++) out.push(escapeRoff(lines[i] as string))
      out.push('.RE', '.fi')
    } else if (line.startsWith('# ') || line.startsWith('<!--')) {
      flush()
    } else if (line.startsWith('## ')) {
      flush()
      out.push(`.SH ${inline(line.slice(3).toUpperCase())}`)
    } else if (line.startsWith('### ') || line.startsWith('#### ')) {
      flush()
      out.push(`.SS ${inline(line.replace(/^#+ /, ''))}`)
    } else if (line.startsWith('|')) {
      flush()
      const rows: string[] = []
      for (; i < lines.length && (lines[i] as string).startsWith('|'); i++) rows.push(lines[i] as string)
      i--
      out.push(...table(rows))
    } else if (/^\s*[-*] /.test(line)) {
      flush()
      const item = [line.replace(/^\s*[-*] /, '')]
      for (; i + 1 < lines.length && /^\s{2,}\S/.test(lines[i + 1] as string) && !/^\s*[-*] /.test(lines[i +
        1] as string); i++) item.push((lines[i + 1] as string).trim())
      out.push('.IP \\(bu 2', inline(item.join(' ')))
    } else if (line.trim() === '' || line.trim() === '---') {
      flush()
    } else {
      paragraph.push(line.trim())
    }
  }
  flush()
  return out
}
