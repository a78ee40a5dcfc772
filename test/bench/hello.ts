/** The baseline of `bun run bench`: the smallest Bun.serve server (hello world), on PORT. */
Bun.serve({ port: Number(process.env.PORT), hostname: '127.0.0.1', fetch: () => new Response('Hello World') })
