package domain

// DefaultCareOfCentre is where later letters wait for a person under
// address protection whose NemID no centre issued (a bank or an abroad
// order issued it): the Copenhagen centre (DESIGN.md §6).
const DefaultCareOfCentre = "KBH"
