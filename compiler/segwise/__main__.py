from segwise.cli import main

main()
