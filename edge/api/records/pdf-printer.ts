// Prints a batch record to PDF with the machine's headless Chromium (`--print-to-pdf`), one browser at a time: a gateway on a small industrial PC must not start a browser per request.
import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ProblemError } from '../problem.ts'

export interface PdfPrinterOptions {
  /** The Chromium binary; Debian's package by default. */
  chromiumPath?: string
  /** Longest one print may take before the browser is stopped, ms. */
  timeoutMs?: number
  /** Prints waiting behind the one running; more are refused with 503 rather than queued without end. */
  maxWaiting?: number
}

// No network, no updates, no sync, no GPU: the browser renders one local file and exits.
const chromiumFlags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-extensions', '--no-pdf-header-footer']

export class PdfPrinter {
  readonly chromiumPath: string
  readonly #timeoutMs: number
  readonly #maxWaiting: number
  #tail: Promise<unknown> = Promise.resolve()
  #waiting = 0

  constructor(options: PdfPrinterOptions = {}) {
    this.chromiumPath = options.chromiumPath ?? '/usr/bin/chromium'
    this.#timeoutMs = options.timeoutMs ?? 60_000
    this.#maxWaiting = options.maxWaiting ?? 4
  }

  /** The PDF of a complete HTML document; a clear 503 problem when this machine cannot print. */
  async print(html: string): Promise<Uint8Array> {
    try {
      await access(this.chromiumPath, constants.X_OK)
    } catch {
      throw new ProblemError(503, 'pdf_unavailable', `This gateway cannot print PDF records: there is no Chromium at ${this.chromiumPath} (install Debian's chromium package). The record is available as HTML.`)
    }
    if (this.#waiting >= this.#maxWaiting) throw new ProblemError(503, 'pdf_busy', `${this.#waiting} PDF records are waiting to be printed; try again in a minute, or read the record as HTML.`)
    this.#waiting++
    const turn = this.#tail.then(() => {
      this.#waiting--
      return this.#printNow(html)
    })
    // The next print waits for this one whether it succeeds or fails.
    this.#tail = turn.catch(() => {})
    return turn
  }

  async #printNow(html: string): Promise<Uint8Array> {
    const dir = await mkdtemp(join(tmpdir(), 'takt-record-'))
    try {
      const page = join(dir, 'record.html')
      const pdf = join(dir, 'record.pdf')
      // The record holds as-built data: readable by the gateway's user only, and gone after the print.
      await writeFile(page, html, { mode: 0o600 })
      await this.#run([...chromiumFlags, `--user-data-dir=${join(dir, 'profile')}`, `--print-to-pdf=${pdf}`, pathToFileURL(page).href])
      return new Uint8Array(await readFile(pdf))
    } finally {
      await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 })
    }
  }

  #run(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.chromiumPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => {
        // The tail is enough to say why a print failed; Chromium is chatty about D-Bus on a headless box.
        stderr = (stderr + chunk.toString()).slice(-2000)
      })
      const timer = setTimeout(() => child.kill('SIGKILL'), this.#timeoutMs)
      child.on('error', (error) => {
        clearTimeout(timer)
        reject(new ProblemError(503, 'pdf_unavailable', `Chromium at ${this.chromiumPath} could not be started: ${error.message}`))
      })
      child.on('exit', (code, signal) => {
        clearTimeout(timer)
        if (code === 0) resolve()
        else reject(new Error(`Chromium ended with ${signal ?? `exit code ${code}`} while printing a record: ${stderr.trim().split('\n').slice(-3).join(' | ')}`))
      })
    })
  }
}
