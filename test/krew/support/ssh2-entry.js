// Bundled by test/krew/bundle.test.ts with the release settings (scripts/krew/bundle.js): ssh2
// becomes a lazy bundle of its own, loaded on first use, without its optional native parts
// (cpu-features, sshcrypto.node). Imported the way src/adapters/ssh/connector.ts imports it. Runs an SSH
// client against an SSH server, both from that bundle, over loopback: key exchange, host key
// check, password authentication and an exec channel. Prints one JSON line.

async function main() {
  const started = Date.now()
  const {default: ssh2} = await import('ssh2')
  const loadMs = Date.now() - started
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519')
  const parsedHost = ssh2.utils.parseKey(hostKey.public)

  const server = new ssh2.Server({hostKeys: [hostKey.private]}, (client) => {
    client.on('authentication', (ctx) => (ctx.method === 'password' && ctx.username === 'u' && ctx.password === 'p' ? ctx.accept() : ctx.reject(['password'])))
    client.on('session', (accept) => {
      accept().on('exec', (acceptExec, _reject, info) => {
        const ch = acceptExec()
        ch.write(`ran: ${info.command}\n`)
        ch.exit(0)
        ch.end()
      })
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address()

  const result = await new Promise((resolve, reject) => {
    const conn = new ssh2.Client()
    let hostKeyChecked = false
    conn.on('error', reject)
    conn.on('ready', () => {
      conn.exec('iptables-save', (err, stream) => {
        if (err) return reject(err)
        let out = ''
        let code
        stream.on('data', (d) => (out += d))
        stream.on('exit', (c) => (code = c))
        stream.on('close', () => {
          conn.end()
          resolve({out, code, hostKeyChecked})
        })
      })
    })
    conn.connect({
      host: '127.0.0.1',
      port,
      username: 'u',
      password: 'p',
      readyTimeout: 20_000,
      hostVerifier: (key) => (hostKeyChecked = Buffer.compare(key, parsedHost.getPublicSSH()) === 0),
    })
  })
  server.close()

  console.log(JSON.stringify({...result, loadMs, keyType: parsedHost.type}))
}

main().catch((err) => {
  console.error(err.stack ?? err)
  process.exit(1)
})
