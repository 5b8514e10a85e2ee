//! The minutes' blocks as a Word document (docx-rs): 13 pt text, the signature blocks side by side
//! in a borderless table.

use std::io::Cursor;

use docx_rs::{AlignmentType, BreakType, Docx, Paragraph, Table, TableCell, TableRow, WidthType};

use super::{Block, Run};

/// Body text size in half-points (13 pt, the customary size for court documents).
const BODY_HALF_POINTS: usize = 26;
/// Title size in half-points (16 pt).
const TITLE_HALF_POINTS: usize = 32;
/// Width of one signature column in twentieths of a point (half of an A4 text line).
const SIGNATURE_COLUMN_DXA: usize = 4535;

fn run(r: &Run) -> docx_rs::Run {
    let mut out = docx_rs::Run::new().size(BODY_HALF_POINTS);
    // Line breaks the author typed (an amendment in paragraphs) stay line breaks.
    for (n, line) in r.text.split('\n').enumerate() {
        if n > 0 {
            out = out.add_break(BreakType::TextWrapping);
        }
        out = out.add_text(line.trim_end_matches('\r'));
    }
    if r.bold {
        out = out.bold();
    }
    if r.italic {
        out = out.italic();
    }
    if r.underline {
        out = out.underline("single");
    }
    out
}

fn centred(p: Paragraph) -> Paragraph {
    p.align(AlignmentType::Center)
}

/// The .docx bytes of `blocks`.
pub fn render(blocks: &[Block]) -> Result<Vec<u8>, String> {
    let mut doc = Docx::new();
    for block in blocks {
        doc = match block {
            Block::Paragraph { runs, centred: c } => {
                let p = runs.iter().fold(Paragraph::new(), |p, r| p.add_run(run(r)));
                doc.add_paragraph(if *c { centred(p) } else { p })
            }
            Block::Title(t) => doc.add_paragraph(centred(
                Paragraph::new().add_run(
                    docx_rs::Run::new()
                        .add_text(t.as_str())
                        .size(TITLE_HALF_POINTS)
                        .bold(),
                ),
            )),
            Block::Heading(t) => doc.add_paragraph(Paragraph::new().add_run(run(&Run::bold(t)))),
            Block::Space => doc.add_paragraph(Paragraph::new()),
            Block::Signatures(pairs) => {
                let cells = pairs
                    .iter()
                    .map(|(title, line)| {
                        TableCell::new()
                            .width(SIGNATURE_COLUMN_DXA, WidthType::Dxa)
                            .add_paragraph(centred(
                                Paragraph::new().add_run(run(&Run::bold(title))),
                            ))
                            .add_paragraph(centred(
                                Paragraph::new().add_run(run(&Run::italic(line.as_str()))),
                            ))
                    })
                    .collect();
                doc.add_table(Table::without_borders(vec![TableRow::new(cells)]))
            }
        };
    }
    let mut out = Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}
