//! The minutes' blocks as an A4 PDF (krilla): DejaVu Serif embedded (it covers every Vietnamese
//! letter, precomposed as NFC text is) and subset to the glyphs used, lines wrapped by the font's
//! own advance widths (ttf-parser), page breaks that keep a heading with what follows and a
//! signature block whole, and "Trang k/n" at the foot of every page.

use std::sync::Arc;

use krilla::Document;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};

use super::{Block, Run};

/// A4 in points (1/72 in).
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
/// Margins in points: 30 mm left (binding), 20 mm right, top and bottom, as in Vietnamese
/// administrative documents.
const LEFT: f32 = 85.04;
const RIGHT: f32 = 56.69;
const TOP: f32 = 56.69;
const BOTTOM: f32 = 56.69;
/// Body and title text sizes in points.
const BODY_PT: f32 = 12.0;
const TITLE_PT: f32 = 15.0;
/// Line height as a multiple of the text size.
const LEADING: f32 = 1.4;
/// Lines a heading needs below it on the same page.
const KEEP_WITH_HEADING: f32 = 2.0;
/// Room left under a signature block's lines for the handwritten signature, in lines.
const SIGNATURE_ROOM: f32 = 3.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Regular,
    Bold,
    Italic,
    BoldItalic,
}

impl Style {
    fn of(r: &Run) -> Style {
        match (r.bold, r.italic) {
            (false, false) => Style::Regular,
            (true, false) => Style::Bold,
            (false, true) => Style::Italic,
            (true, true) => Style::BoldItalic,
        }
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            Style::Regular => dejavu::serif::regular(),
            Style::Bold => dejavu::serif::bold(),
            Style::Italic => dejavu::serif::italic(),
            Style::BoldItalic => dejavu::serif::bold_italic(),
        }
    }
}

/// One face: its metrics for measuring, its krilla font for drawing.
struct Face {
    metrics: ttf_parser::Face<'static>,
    font: Font,
}

struct Faces([Face; 4]);

impl Faces {
    fn load() -> Result<Faces, String> {
        let face = |style: Style| -> Result<Face, String> {
            let bytes = style.bytes();
            let data: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(bytes);
            Ok(Face {
                metrics: ttf_parser::Face::parse(bytes, 0).map_err(|e| e.to_string())?,
                font: Font::new(data.into(), 0)
                    .ok_or_else(|| format!("the {style:?} font cannot be read"))?,
            })
        };
        Ok(Faces([
            face(Style::Regular)?,
            face(Style::Bold)?,
            face(Style::Italic)?,
            face(Style::BoldItalic)?,
        ]))
    }

    fn get(&self, style: Style) -> &Face {
        &self.0[style as usize]
    }

    /// Width of `text` in points at `size`, from the glyphs' advance widths.
    fn width(&self, style: Style, size: f32, text: &str) -> f32 {
        let m = &self.get(style).metrics;
        let units: u32 = text
            .chars()
            .map(|c| {
                m.glyph_index(c)
                    .and_then(|g| m.glyph_hor_advance(g))
                    .map_or(0, u32::from)
            })
            .sum();
        units as f32 * size / f32::from(m.units_per_em())
    }
}

/// Something to draw on a page; `y` is the baseline, from the top.
#[derive(Debug)]
enum Op {
    Text {
        x: f32,
        y: f32,
        style: Style,
        size: f32,
        text: String,
    },
    Underline {
        x: f32,
        y: f32,
        width: f32,
    },
}

/// A laid-out line: pieces of text in one style, each with its width.
struct Line {
    pieces: Vec<(Style, bool, String, f32)>,
    width: f32,
}

/// Pages of drawing operations, filled top to bottom.
struct Layout<'f> {
    faces: &'f Faces,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(faces: &'f Faces) -> Self {
        Layout {
            faces,
            pages: vec![Vec::new()],
            y: TOP,
        }
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn room_for(&mut self, height: f32) {
        if self.y + height > PAGE_HEIGHT - BOTTOM && self.y > TOP {
            self.pages.push(Vec::new());
            self.y = TOP;
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a layout always has a page")
    }

    /// Breaks runs into lines no wider than `width`, at spaces (inside a word only when the word
    /// alone is wider than the line) and at the line breaks in the text.
    fn wrap(&self, runs: &[Run], size: f32, width: f32) -> Vec<Line> {
        let mut lines = vec![Line {
            pieces: Vec::new(),
            width: 0.0,
        }];
        let mut pending_space = false;
        for r in runs {
            let style = Style::of(r);
            let space = self.faces.width(style, size, " ");
            for (n, typed) in r.text.split('\n').enumerate() {
                if n > 0 {
                    // A line break the author typed (an amendment in paragraphs).
                    lines.push(Line {
                        pieces: Vec::new(),
                        width: 0.0,
                    });
                    pending_space = false;
                }
                for (k, word) in typed.split([' ', '\t', '\r']).enumerate() {
                    if k > 0 {
                        pending_space = true;
                    }
                    if word.is_empty() {
                        continue;
                    }
                    let mut word = word.to_string();
                    loop {
                        let line = lines.last_mut().expect("at least one line");
                        let gap = if pending_space && !line.pieces.is_empty() {
                            space
                        } else {
                            0.0
                        };
                        let w = self.faces.width(style, size, &word);
                        if line.width + gap + w <= width || (line.pieces.is_empty() && w <= width) {
                            let text = if gap > 0.0 { format!(" {word}") } else { word };
                            push_piece(line, style, r.underline, text, gap + w);
                            pending_space = false;
                            break;
                        }
                        if line.pieces.is_empty() {
                            // One word wider than the line: cut it where it stops fitting.
                            let mut cut = 0;
                            for (i, c) in word.char_indices() {
                                let end = i + c.len_utf8();
                                if self.faces.width(style, size, &word[..end]) > width && cut > 0 {
                                    break;
                                }
                                cut = end;
                            }
                            let rest = word.split_off(cut);
                            let w = self.faces.width(style, size, &word);
                            push_piece(line, style, r.underline, word, w);
                            word = rest;
                        }
                        pending_space = false;
                        lines.push(Line {
                            pieces: Vec::new(),
                            width: 0.0,
                        });
                    }
                }
            }
        }
        lines
    }

    /// Lays out a paragraph in the column from `left`, `width` points wide.
    fn paragraph(&mut self, runs: &[Run], size: f32, centred: bool, left: f32, width: f32) {
        let height = size * LEADING;
        for line in self.wrap(runs, size, width) {
            self.room_for(height);
            let mut x = if centred {
                left + (width - line.width) / 2.0
            } else {
                left
            };
            let y = self.y + size;
            for (style, underline, text, w) in line.pieces {
                if underline {
                    self.ops().push(Op::Underline {
                        x,
                        y: y + size * 0.15,
                        width: w,
                    });
                }
                self.ops().push(Op::Text {
                    x,
                    y,
                    style,
                    size,
                    text,
                });
                x += w;
            }
            self.y += height;
        }
    }

    fn block(&mut self, block: &Block) {
        let text_width = PAGE_WIDTH - LEFT - RIGHT;
        let line = BODY_PT * LEADING;
        match block {
            Block::Paragraph { runs, centred } => {
                self.paragraph(runs, BODY_PT, *centred, LEFT, text_width);
            }
            Block::Title(t) => {
                self.y += line / 2.0;
                self.paragraph(&[Run::bold(t)], TITLE_PT, true, LEFT, text_width);
                self.y += line / 4.0;
            }
            Block::Heading(t) => {
                self.room_for(line * (1.5 + KEEP_WITH_HEADING));
                self.y += line / 2.0;
                self.paragraph(&[Run::bold(t)], BODY_PT, false, LEFT, text_width);
            }
            Block::Space => self.y += line,
            Block::Signatures(pairs) => {
                let columns = pairs.len().max(1) as f32;
                let width = text_width / columns;
                let lines = pairs
                    .iter()
                    .map(|(title, note)| {
                        self.wrap(&[Run::bold(title)], BODY_PT, width).len()
                            + self
                                .wrap(&[Run::italic(note.as_str())], BODY_PT, width)
                                .len()
                    })
                    .max()
                    .unwrap_or(0) as f32;
                // The capacities and names stay together and on the page with the end of the
                // minutes when they fit; the room to sign under them may run into the margin.
                self.room_for(line * lines);
                let top = self.y;
                let mut bottom = top;
                for (k, (title, note)) in pairs.iter().enumerate() {
                    self.y = top;
                    let left = LEFT + width * k as f32;
                    self.paragraph(&[Run::bold(title)], BODY_PT, true, left, width);
                    self.paragraph(&[Run::italic(note.as_str())], BODY_PT, true, left, width);
                    bottom = bottom.max(self.y);
                }
                self.y = bottom + line * SIGNATURE_ROOM;
            }
        }
    }
}

fn push_piece(line: &mut Line, style: Style, underline: bool, text: String, width: f32) {
    match line.pieces.last_mut() {
        Some(last) if last.0 == style && last.1 == underline => {
            last.2.push_str(&text);
            last.3 += width;
        }
        _ => line.pieces.push((style, underline, text, width)),
    }
    line.width += width;
}

/// The PDF bytes of `blocks`; `title` goes into the document's metadata.
pub fn render(blocks: &[Block], title: &str) -> Result<Vec<u8>, String> {
    let faces = Faces::load()?;
    let mut layout = Layout::new(&faces);
    for b in blocks {
        layout.block(b);
    }
    let pages = layout.pages;
    let total = pages.len();
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .language("vi".to_string()),
    );
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or("A4 is a page size")?;
    for (n, ops) in pages.into_iter().enumerate() {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        let footer = format!("Trang {}/{total}", n + 1);
        let footer_x = (PAGE_WIDTH - faces.width(Style::Regular, BODY_PT - 2.0, &footer)) / 2.0;
        let footer_op = Op::Text {
            x: footer_x,
            y: PAGE_HEIGHT - BOTTOM / 2.0,
            style: Style::Regular,
            size: BODY_PT - 2.0,
            text: footer,
        };
        for op in ops.iter().chain([&footer_op]) {
            match op {
                Op::Text {
                    x,
                    y,
                    style,
                    size,
                    text,
                } => surface.draw_text(
                    Point::from_xy(*x, *y),
                    faces.get(*style).font.clone(),
                    *size,
                    text,
                    false,
                    TextDirection::LeftToRight,
                ),
                Op::Underline { x, y, width } => {
                    let mut path = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(*x, *y, *width, 0.6) {
                        path.push_rect(rect);
                    }
                    if let Some(path) = path.finish() {
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Every Vietnamese letter (NFC, precomposed) has its own glyph in every face: no tofu, no
    /// fallback to decomposed marks.
    #[test]
    fn dejavu_serif_has_every_vietnamese_letter() {
        let faces = Faces::load().unwrap();
        let letters = "aàảãáạăằẳẵắặâầẩẫấậbcdđeèẻẽéẹêềểễếệghiìỉĩíịklmnoòỏõóọôồổỗốộơờởỡớợpqrstuùủũúụưừửữứựvxyỳỷỹýỵ";
        for style in [
            Style::Regular,
            Style::Bold,
            Style::Italic,
            Style::BoldItalic,
        ] {
            let m = &faces.get(style).metrics;
            for c in letters.chars().chain(letters.to_uppercase().chars()) {
                assert!(m.glyph_index(c).is_some(), "{style:?} lacks {c}");
            }
        }
    }

    /// A typed line break starts a new line; tabs and carriage returns are spaces, never glyphs.
    #[test]
    fn typed_line_breaks_are_kept() {
        let faces = Faces::load().unwrap();
        let layout = Layout::new(&faces);
        let lines = layout.wrap(
            &[Run::plain("Bổ sung:\r\n- bị cáo\tvắng mặt")],
            BODY_PT,
            400.0,
        );
        let text: Vec<String> = lines
            .iter()
            .map(|l| l.pieces.iter().map(|p| p.2.as_str()).collect())
            .collect();
        assert_eq!(text, ["Bổ sung:", "- bị cáo vắng mặt"]);
    }

    /// Long paragraphs wrap inside the margins and long documents break into numbered pages.
    #[test]
    fn lines_wrap_inside_the_margins_and_pages_break() {
        let faces = Faces::load().unwrap();
        let mut layout = Layout::new(&faces);
        let sentence = "Bị cáo Nguyễn Văn An trình bày ý kiến về tội danh và hình phạt. ".repeat(6);
        for _ in 0..60 {
            layout.block(&Block::Paragraph {
                runs: vec![Run::plain(sentence.as_str())],
                centred: false,
            });
        }
        assert!(layout.pages.len() > 3, "{} pages", layout.pages.len());
        for ops in &layout.pages {
            for op in ops {
                if let Op::Text {
                    x,
                    y,
                    style,
                    size,
                    text,
                } = op
                {
                    let right = x + faces.width(*style, *size, text);
                    assert!(
                        *x >= LEFT - 0.01 && right <= PAGE_WIDTH - RIGHT + 0.01,
                        "{text:?} ends at {right}"
                    );
                    assert!(*y <= PAGE_HEIGHT - BOTTOM && *y >= TOP, "{text:?} at y={y}");
                }
            }
        }
    }
}
