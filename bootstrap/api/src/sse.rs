//! Server-sent events framing, decoded from bytes: an HTTP chunk may end anywhere, inside a
//! multi-byte character or between the `\r` and `\n` of a line ending, so bytes are buffered and
//! only whole lines are decoded. Lines end with `\r\n`, `\n` or `\r`; a blank line ends an event;
//! `data:` lines (one leading space dropped) are joined with `\n`; `:` lines are comments.

/// Turns a byte stream into the `data` of each event.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buf: Vec<u8>,
    data: Vec<String>,
    has_data: bool,
}

impl SseDecoder {
    /// Add bytes as they arrived.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete event's data, if the buffered bytes hold one.
    pub fn next_event(&mut self) -> Option<String> {
        while let Some((line_len, ending_len)) = self.next_line() {
            let line: Vec<u8> = self
                .buf
                .drain(..line_len + ending_len)
                .take(line_len)
                .collect();
            if line.is_empty() {
                if self.has_data {
                    self.has_data = false;
                    return Some(std::mem::take(&mut self.data).join("\n"));
                }
                continue;
            }
            let line = String::from_utf8_lossy(&line);
            if let Some(value) = line.strip_prefix("data:") {
                self.data
                    .push(value.strip_prefix(' ').unwrap_or(value).to_string());
                self.has_data = true;
            }
            // Comments (`:`), `event:`, `id:` and `retry:` carry nothing this client uses.
        }
        None
    }

    /// Length of the first whole line and of its ending; `None` until a line is complete. A `\r`
    /// at the very end waits for the next byte: it may be the first half of `\r\n`.
    fn next_line(&self) -> Option<(usize, usize)> {
        let at = self.buf.iter().position(|b| *b == b'\n' || *b == b'\r')?;
        if self.buf[at] == b'\n' {
            return Some((at, 1));
        }
        match self.buf.get(at + 1) {
            Some(b'\n') => Some((at, 2)),
            Some(_) => Some((at, 1)),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]]) -> Vec<String> {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        for c in chunks {
            d.push(c);
            while let Some(e) = d.next_event() {
                out.push(e);
            }
        }
        out
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let stream =
            ": keep-alive\r\n\r\ndata: {\"host\":\"nœud-ü\"}\r\n\r\ndata:a\rdata: b\r\rdata: c\n\n";
        let bytes = stream.as_bytes();
        let whole = decode(&[bytes]);
        assert_eq!(whole, vec!["{\"host\":\"nœud-ü\"}", "a\nb", "c"]);
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(decode(&[a, b]), whole, "split at byte {cut}");
        }
        let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(decode(&one_by_one), whole);
    }

    #[test]
    fn an_unfinished_event_is_not_returned() {
        assert!(decode(&[b"data: {\"seq\":1}\n"]).is_empty());
    }
}
