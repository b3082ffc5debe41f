use domain_core::prelude::*;

#[aggregate]
pub struct Book {
    pub title: String,
}

#[aggregate]
pub struct Loan {
    pub member: String,
}

#[command(part_of = Loan)]
pub struct LendBook {
    pub member: String,
}

#[derive(Default)]
pub struct BookCommands;

#[command_handler(part_of = Book)]
impl BookCommands {
    #[handle(LendBook)]
    fn lend(&self, _command: LendBook) -> Result<()> {
        Ok(())
    }
}

fn main() {}
