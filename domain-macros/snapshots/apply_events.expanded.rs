impl Account {
    fn deposited(&mut self, event: &Deposited) {
        self.balance += event.amount;
    }
}
const _: () = {
    use ::domain_core::__private as __dc;
    impl __dc::Apply<Deposited> for Account {
        fn apply(&mut self, event: &Deposited) {
            fn __own_event<E: __dc::Event<Aggregate = A>, A>() {}
            let _ = __own_event::<Deposited, Account>;
            <Account>::deposited(self, event);
        }
    }
};
