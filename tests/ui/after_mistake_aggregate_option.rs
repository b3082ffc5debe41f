// A typo in an option is one error: the aggregate is still generated, so the builder, the field
// constants and the repository below compile as if the option were right.
use domain_core::prelude::*;

#[aggregate(stream_categry = "books")]
pub struct Book {
    #[field(max_lenght = 200)]
    pub title: String,
}

#[event(part_of = Book)]
pub struct BookAdded {
    pub title: String,
}

async fn use_it(domain: &Domain) -> Result<()> {
    let mut book = Book::builder().title("Dune").build()?;
    book.raise(BookAdded { title: book.title.clone() });
    let _ = Book::TITLE.eq("Dune");
    domain.repository::<Book>().add(book).await?;
    Ok(())
}

fn main() {
    let _ = use_it;
}
