// Placeholder: the ideas widget (voting, proposals, counts) comes from the widget branch.
