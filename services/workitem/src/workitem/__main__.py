from workitem.main import main

main()
