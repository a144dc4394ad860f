/** A one-line progress bar on stderr (plain lines when stderr is not a terminal). */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  let last = '';
  return {
    update(done: number, total: number | undefined) {
      const width = 30;
      const ratio = total ? Math.min(1, done / total) : 0;
      const bar = total ? `[${'#'.repeat(Math.round(ratio * width)).padEnd(width, '.')}] ` : '';
      const line = `${label} ${bar}${done}${total ? `/${total}` : ''}`;
      if (line === last) return;
      last = line;
      if (stream.isTTY) stream.write(`\r${line}`);
      else stream.write(`${line}\n`);
    },
    done() {
      if (stream.isTTY && last) stream.write('\n');
    },
  };
}
