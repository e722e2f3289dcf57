from desktop.main import main

main()
