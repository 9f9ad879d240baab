//! Build a [`Node`] tree from yaml-rust2's marked events.
use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::scalar::resolve_plain;
use super::{Entry, Node, Value};
use crate::diagnostic::Mark;

/// The file is not YAML, or not one document of it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub mark: Mark,
    pub message: String,
}

/// Parse one YAML document. An empty file is a null document.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(err) = parser.load(&mut builder, true) {
        let m = err.marker();
        return Err(ParseError {
            mark: to_mark(m),
            message: tidy(err.info()),
        });
    }
    if let Some(error) = builder.error {
        return Err(error);
    }
    match builder.documents.len() {
        0 => Ok(Node {
            value: Value::Null,
            mark: Mark::START,
        }),
        1 => Ok(builder.documents.remove(0)),
        _ => Err(ParseError {
            mark: builder.documents[1].mark,
            message: "expected one YAML document, found several (remove the `---` separator)"
                .into(),
        }),
    }
}

fn to_mark(m: &Marker) -> Mark {
    // yaml-rust2 counts lines from 1 and columns from 0.
    Mark {
        line: m.line().max(1),
        column: m.col() + 1,
    }
}

/// yaml-rust2's messages are libyaml's ("did not find expected key"); keep them, lower-case.
fn tidy(info: &str) -> String {
    let mut message = info.trim().trim_end_matches('.').to_string();
    if let Some(first) = message.get(..1) {
        let lower = first.to_lowercase();
        message.replace_range(..1, &lower);
    }
    message
}

enum Frame {
    Seq {
        mark: Mark,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        mark: Mark,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<(String, Mark)>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    documents: Vec<Node>,
    anchors: HashMap<usize, Node>,
    error: Option<ParseError>,
}

impl Builder {
    fn fail(&mut self, mark: Mark, message: &str) {
        if self.error.is_none() {
            self.error = Some(ParseError {
                mark,
                message: message.into(),
            });
        }
    }

    /// Hand a finished node to its parent (or finish the document).
    fn complete(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some((key, key_mark)) => {
                    // An empty value (`key:`) is marked where the next token starts, often on a
                    // later line; its key is where the reader should look.
                    let mut value = node;
                    if value.value == Value::Null && value.mark.line > key_mark.line {
                        value.mark = key_mark;
                    }
                    entries.push(Entry {
                        key,
                        key_mark,
                        value,
                    })
                }
                None => match node.value.scalar_text() {
                    Some(text) => *key = Some((text, node.mark)),
                    None if node.value == Value::Null => *key = Some(("null".into(), node.mark)),
                    None => self.fail(
                        node.mark,
                        "a mapping key must be a plain word, not a list or mapping",
                    ),
                },
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, marker: Marker) {
        let mark = to_mark(&marker);
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let value = match style {
                    TScalarStyle::Plain => resolve_plain(&text),
                    _ => Value::Str { text, quoted: true },
                };
                self.complete(Node { value, mark }, anchor);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                mark,
                anchor,
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                mark,
                anchor,
                entries: Vec::new(),
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    mark,
                    anchor,
                    items,
                }) => self.complete(
                    Node {
                        value: Value::Seq(items),
                        mark,
                    },
                    anchor,
                ),
                Some(Frame::Map {
                    mark,
                    anchor,
                    entries,
                    ..
                }) => {
                    // A block mapping's start event sits at its first `:`; its first key is where a
                    // reader looks.
                    let mark = entries.first().map_or(mark, |e| e.key_mark.min(mark));
                    self.complete(
                        Node {
                            value: Value::Map(entries),
                            mark,
                        },
                        anchor,
                    )
                }
                None => self.fail(mark, "unbalanced collection end"),
            },
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => self.complete(
                    Node {
                        value: node.value,
                        mark,
                    },
                    0,
                ),
                None => self.fail(mark, "alias to an unknown anchor"),
            },
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_keys(node: &Node) -> Vec<(String, usize, usize)> {
        match &node.value {
            Value::Map(entries) => entries
                .iter()
                .map(|e| (e.key.clone(), e.key_mark.line, e.key_mark.column))
                .collect(),
            other => panic!("expected a map, got {other:?}"),
        }
    }

    #[test]
    fn parse_keeps_positions_and_duplicate_keys() {
        let node = parse("a: 1\nb:\n  c: x\na: 2\n").expect("valid yaml");
        assert_eq!(
            map_keys(&node),
            vec![("a".into(), 1, 1), ("b".into(), 2, 1), ("a".into(), 4, 1)]
        );
    }

    #[test]
    fn parse_reports_broken_yaml_with_a_line() {
        let err = parse("a: 1\nb: [1, 2\nc: 3\n").expect_err("unclosed flow sequence");
        assert!(err.mark.line >= 2, "{err:?}");
    }

    #[test]
    fn parse_resolves_aliases_and_empty_documents() {
        let node = parse("x: &h 10.0.0.1\ny: *h\n").expect("valid yaml");
        assert_eq!(
            node.to_json(),
            serde_json::json!({"x": "10.0.0.1", "y": "10.0.0.1"})
        );
        assert_eq!(parse("").expect("empty").value, Value::Null);
        assert_eq!(
            parse("# only a comment\n").expect("comment").value,
            Value::Null
        );
    }

    #[test]
    fn parse_rejects_several_documents() {
        let err = parse("a: 1\n---\nb: 2\n").expect_err("two documents");
        assert!(err.message.contains("one YAML document"));
    }
}
